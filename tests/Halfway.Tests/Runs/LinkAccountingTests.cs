using System.Globalization;
using System.Text.Json;
using Halfway.Lab;
using Halfway.Reports;
using Halfway.Runs;
using Halfway.Scenarios;
using Halfway.Tests.Support;

namespace Halfway.Tests.Runs;

/// <summary>
/// What a run says the link did: drops are only the packets the link dropped (rules, loss), packets still delayed when
/// the lab stops are in flight, and the run's capture marks each of them, as tshark reads it.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LinkAccountingTests
{
    [LabFact]
    public async Task A_run_without_rules_or_loss_drops_nothing_and_reports_the_packets_left_in_flight()
    {
        // One way takes 3 s: the SYN re-sent at 3 s meets the SYN-ACK sent at 3 s, so connect() returns after ~6 s and
        // the clients close at once. The lab stops after its 0.3 s grace and its teardown, which on a busy 2-core
        // machine has taken over 0.7 s; every final ACK and FIN still has ~3 s of delay to go, a margin load cannot eat.
        var (run, report, json, folder) = await RunAndWrite("""
            name: left-in-flight
            duration: 30s
            link: { delay: 3s }
            server: { port: 8080, backlog: 16, accept: { mode: immediately } }
            clients:
              count: 5
              steps:
                - connect: { timeout: 20s }
                - close
            """);
        try
        {
            Assert.All(run.Connections, c => Assert.NotNull(c.ConnectedAtMs));
            Assert.Equal(0, run.LinkPacketsDropped);
            Assert.True(run.LinkPacketsInFlight >= 2 * run.Connections.Count,
                $"{run.LinkPacketsInFlight} packets in flight; every connection's final ACK and FIN should be");
            Assert.DoesNotContain(run.Packets, p => p.Action == LinkAction.Dropped);
            Assert.Equal(run.LinkPacketsInFlight, run.Packets.Count(p => p.Action == LinkAction.InFlight));
            Assert.All(run.Packets.Where(p => p.Action == LinkAction.InFlight), p => Assert.Equal(-1, p.DeliveredAtMicroseconds));

            using var document = JsonDocument.Parse(json);
            var link = document.RootElement.GetProperty("scenarios")[0].GetProperty("link");
            Assert.Equal(0, link.GetProperty("packets_dropped").GetInt64());
            Assert.Equal(run.LinkPacketsInFlight, link.GetProperty("packets_in_flight").GetInt64());
            Assert.Contains($"{run.LinkPacketsSeen} packets, 0 dropped by the link, {run.LinkPacketsInFlight} still in flight when the lab stopped",
                TextReport.Render(report));

            // The capture marks exactly the packets left in flight, and nothing as dropped.
            var comments = Comments(Path.Combine(report.RunFolder, report.Scenarios[0].Capture!));
            Assert.Equal(run.Packets.Count, comments.Count);
            for (int i = 0; i < run.Packets.Count; i++)
                Assert.Equal(run.Packets[i].Action == LinkAction.InFlight ? RunCapture.InFlightComment : "", comments[i].Comment);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [LabFact]
    public async Task The_capture_names_the_rule_on_each_final_ACK_the_link_dropped()
    {
        var (run, report, json, folder) = await RunAndWrite("""
            name: lost-final-acks
            duration: 20s
            link:
              delay: 5ms
              drop:
                - { name: lost final ACKs, handshake_ack: true, first_connections: 3 }
            server: { port: 8080, backlog: 16, accept: { mode: immediately }, reply: Pong }
            clients:
              count: 8
              steps:
                - connect: { timeout: 5s }
                - wait: 200ms
                - send: Ping
                - receive: { timeout: 3s }
                - close
            """);
        try
        {
            Assert.Equal(3, run.LinkPacketsDropped);
            using var document = JsonDocument.Parse(json);
            var scenario = document.RootElement.GetProperty("scenarios")[0];
            Assert.Equal(3, scenario.GetProperty("link").GetProperty("packets_dropped").GetInt64());
            string capture = Path.Combine(report.RunFolder, scenario.GetProperty("capture").GetString()!);
            Assert.EndsWith(".pcapng", capture);

            var frames = Comments(capture);
            Assert.Equal(run.LinkPacketsSeen, frames.Count);
            var dropped = frames.Where(f => f.Comment.StartsWith("dropped by the link", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, dropped.Count);
            Assert.All(dropped, f =>
            {
                Assert.Equal("dropped by the link: rule 'lost final ACKs'", f.Comment);
                // A pure ACK (flags 0x010, no payload) from the client to the server's port.
                Assert.Equal((LabNetwork.PairClientAddress.ToString(), "8080", 0x010, "0"), (f.Source, f.DestinationPort, f.Flags, f.PayloadLength));
            });
            Assert.Equal(3, dropped.Select(f => f.SourcePort).Distinct().Count());
            // They are the very packets the link reported dropped (the capture holds the run's packets in order).
            var droppedFrames = run.Packets.Select((p, i) => (p, Frame: i + 1)).Where(x => x.p.Action == LinkAction.Dropped).Select(x => (long)x.Frame).ToList();
            Assert.Equal(droppedFrames, dropped.Select(f => f.Number).ToList());
            // Anything else with a comment was still in flight at the end (the server's last packets, say).
            Assert.All(frames.Where(f => f.Comment.Length > 0 && !dropped.Contains(f)), f => Assert.Equal(RunCapture.InFlightComment, f.Comment));
            Assert.Equal(run.LinkPacketsInFlight, frames.Count(f => f.Comment == RunCapture.InFlightComment));

            // `halfway explain` reads the run's pcapng (comments, flags and all) without a warning.
            var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", capture, "--json", "--all");
            Assert.True(exitCode == 0, $"halfway explain failed ({exitCode}): {stderr}");
            using var explained = JsonDocument.Parse(stdout);
            Assert.False(explained.RootElement.GetProperty("damaged").GetBoolean());
            Assert.Equal(0, explained.RootElement.GetProperty("warnings").GetArrayLength());
            Assert.Equal(run.Connections.Count, explained.RootElement.GetProperty("connections_total").GetInt32());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed record Frame(long Number, string Source, string SourcePort, string DestinationPort, int Flags, string PayloadLength, string Comment);

    /// <summary>Every frame of the capture as tshark reads it, with its comment ("" if none).</summary>
    private static List<Frame> Comments(string capture)
    {
        var output = HostSnapshot.Run(["tshark", "-n", "-r", capture, "-T", "fields", "-E", "separator=|",
            "-e", "frame.number", "-e", "ip.src", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.len", "-e", "frame.comment"]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var f = line.Split('|');
            Assert.True(f.Length == 7, $"tshark: {line}");
            return new Frame(long.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], f[3],
                f[4].Length > 0 ? Convert.ToInt32(f[4], 16) : -1, f[5], f[6]);
        }).ToList();
    }

    private static async Task<(ScenarioRun Run, RunReport Report, string Json, string Folder)> RunAndWrite(string yaml)
    {
        var scenario = ScenarioParser.Parse(yaml, "test.yaml");
        ScenarioRunner.Preflight([scenario]);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = await ScenarioRunner.RunAsync(scenario, null, bound.Token);
        string root = Path.Combine(Path.GetTempPath(), $"halfway-test-{Guid.NewGuid():N}");
        var (report, json) = await RunFolder.WriteAsync([run], root, ["test.yaml"], bound.Token);
        return (run, report, json, root);
    }
}
