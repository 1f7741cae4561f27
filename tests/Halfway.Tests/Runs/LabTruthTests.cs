using Halfway.Analysis;
using Halfway.Runs;
using Halfway.Scenarios;
using static Halfway.Tests.Runs.RunAssertions;
using Halfway.Observe;

namespace Halfway.Tests.Runs;

/// <summary>
/// Paths the seed's quick run does not walk: a call seconds after a RST, connect timeouts under a storm, and final ACKs
/// the run's own link dropped. Each connection keeps one record, and its fate and explanation agree with the kernel.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LabTruthTests
{
    [LabFact]
    public async Task A_reset_at_a_re_sent_ACK_is_reset_at_handshake_and_the_explanation_names_the_links_drop()
    {
        // The first connection's final ACK is dropped by the link; the next two fill the accept queue (backlog 1 holds 2).
        // Its request socket re-sends the SYN-ACK after ~1 s and, with abort_on_overflow, answers the re-ACK with a RST.
        var run = await RunScenarioAsync("""
            name: abort-at-re-ack
            duration: 12s
            link:
              delay: 5ms
              drop: [ { name: first final ACK, handshake_ack: true, first_connections: 1 } ]
            kernel:
              server: { net.ipv4.tcp_abort_on_overflow: 1 }
            server: { port: 8080, backlog: 1, accept: never }
            clients:
              count: 3
              rate: 20
              steps:
                - connect: { timeout: 3s }
                - wait: 4s
                - send: Ping
                - receive: { timeout: 1s }
            """);
        var analysis = ScenarioAnalysis.Analyze(run);
        var first = run.Connections.Single(c => c.Id == 0);
        var verdict = analysis.ForConnection(first);
        Assert.True(verdict.Fate == "reset-at-handshake", $"fate {verdict.Fate}: {string.Join(" | ", verdict.Timeline.Select(t => t.Text))}");
        Assert.Equal("request-socket", verdict.Kind);
        Assert.True(ServerReset(run, first.Local!.Value));
        Assert.True(run.Counters["server"].GetValueOrDefault("TcpExtEmbryonicRsts") >= 1);
        // The RST came seconds before the client's data, and the later calls' failure stays on the same record.
        Assert.Contains(first.Steps, s => s.Result == CallResult.Reset);
        Assert.Contains(verdict.Timeline, t => t.Text.Contains("dropped by the link (rule 'first final ACK')", StringComparison.Ordinal));
        string explanation = Assert.Single(analysis.Explanations, e => e.StartsWith("reset-at-handshake", StringComparison.Ordinal));
        Assert.True(explanation.Contains("the lab's link dropped it", StringComparison.Ordinal) && explanation.Contains("re-ACK", StringComparison.Ordinal)
            && !explanation.Contains("expired", StringComparison.Ordinal), explanation);
        Assert.All(run.Connections.Where(c => c.Id != 0), c => Assert.Equal("queued", analysis.ForConnection(c).Fate));
        Assert.Empty(RunConsistency.Contradictions(run, analysis));
    }

    [LabFact]
    public async Task A_call_seconds_after_a_RST_at_the_handshake_stays_on_its_connection()
    {
        // A long round trip keeps handshakes in flight while the accept queue fills: the request sockets of the SYNs that
        // came in the last round trip before it was full (connections 10-13: one every 20 ms, 90 ms round trip) draw a
        // RST at their final ACK; later SYNs find the queue full and are dropped. Fewer handshakes in flight than the
        // SYN queue's 8 and no syncookies: at 200 connects/s (20 in flight), whether a SYN got a request socket (RST at
        // its ACK) or a cookie (ACK dropped silently) depended on which of two packets due at the same microsecond came
        // first, and under load none was reset. The clients call again 2.5-3.5 s later, longer than a capture file's
        // engine waits after a RST.
        var run = await RunScenarioAsync("""
            name: abort-storm
            duration: 15s
            link: { delay: 45ms }
            kernel:
              server: { net.ipv4.tcp_abort_on_overflow: 1, net.ipv4.tcp_syncookies: 0 }
            server: { port: 8080, backlog: 8, accept: never }
            clients:
              count: 40
              rate: 50
              steps:
                - connect: { timeout: 4s }
                - wait: 2500ms..3500ms
                - send: Ping
                - receive: { timeout: 1s }
                - close
            """);
        var analysis = ScenarioAnalysis.Analyze(run);
        var connected = run.Connections.Where(c => c.ConnectedAtMs is not null || c.Steps.Any(s => s.Step == ClientStep.Connect && s.Result == CallResult.Reset)).ToList();
        Assert.NotEmpty(connected);
        Assert.DoesNotContain(connected, c => analysis.ForConnection(c).Fate is "unknown" or "refused" or "syn-dropped");
        // (Connections still queued when the run ends are reset by the server application's close: those are not counted.)
        var reset = connected.Where(c => c.Steps.Any(s => s.Result == CallResult.Reset)).ToList();
        Assert.True(reset.Count > 0, $"no call saw a reset; {connected.Count} connected; fates: "
            + string.Join(", ", run.Connections.GroupBy(c => analysis.ForConnection(c).Fate).Select(g => $"{g.Key} {g.Count()}"))
            + $"; EmbryonicRsts +{run.Counters["server"].GetValueOrDefault("TcpExtEmbryonicRsts")}, SyncookiesSent +{run.Counters["server"].GetValueOrDefault("TcpExtSyncookiesSent")}"
            + "; connects started at (ms) " + string.Join(" ", run.Connections.Take(16).Select(c => $"{c.ConnectStartedAtMs:0}")));
        Assert.All(reset, c => Assert.Equal("reset-at-handshake", analysis.ForConnection(c).Fate));
        Assert.True(run.Counters["server"].GetValueOrDefault("TcpExtEmbryonicRsts") >= reset.Count);
        Assert.Empty(RunConsistency.Contradictions(run, analysis));
    }

    [LabFact]
    public async Task A_connect_that_times_out_closes_its_socket_and_is_never_connected_later()
    {
        // Backlog 1 and a server that never accepts: once its accept queue is full every later SYN is dropped, and those
        // clients give up after 1.5 s.
        var run = await RunScenarioAsync("""
            name: connect-timeouts
            duration: 12s
            link: { delay: 5ms }
            server: { port: 8080, backlog: 1, accept: never }
            clients:
              count: 200
              rate: 100
              steps:
                - connect: { timeout: 1500ms }
                - wait: 6s
                - close
            """);
        var analysis = ScenarioAnalysis.Analyze(run);
        var timedOut = run.Connections.Where(c => Step(c, ClientStep.Connect) is { Result: CallResult.Timeout }).ToList();
        Assert.NotEmpty(timedOut);
        foreach (var c in timedOut)
        {
            double gaveUp = Step(c, ClientStep.Connect)!.AtMs * 1000;
            // After it gave up, its socket sends no SYN and no ACK: the kernel no longer holds it (a late SYN-ACK may draw a RST).
            var after = run.Segments.Where(s => s.Segment.Source == c.Local!.Value && s.Packet.SeenAtMicroseconds > gaveUp + 1000).ToList();
            Assert.True(after.All(s => s.Segment.Has(Halfway.Wire.TcpFlags.Rst)), $"{c.Local}: sent {after.Count} segments after its connect timed out");
            var fate = analysis.ForConnection(c);
            Assert.False(fate.HalfEstablished, $"{c.Local}: {fate.Fate}");
            Assert.DoesNotContain(fate.Fate, new[] { "accepted", "accepted-late", "queued", "still-half-established" });
            Assert.Null(AcceptedAt(run, c.Local!.Value));
        }
        Assert.Empty(RunConsistency.Contradictions(run, analysis));
    }
}
