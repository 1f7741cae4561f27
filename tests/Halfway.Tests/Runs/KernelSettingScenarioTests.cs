using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Halfway.Reports;
using Halfway.Runs;
using Halfway.Scenarios;
using static Halfway.Tests.Runs.RunAssertions;
using Halfway.Observe;

namespace Halfway.Tests.Runs;

[Collection(LabCollection.Name)]
public sealed class KernelSettingScenarioTests
{
    // Cookies off, so every handshake holds a request socket. A burst on backlog 2 fills the accept queue
    // (3) and the other SYNs are dropped; the server accepts one at +0.5 s, so the SYNs retransmitted at
    // +1 s find one free slot and several request sockets: all but one final ACK meet a full queue.
    private static string Overflow(int abortOnOverflow) => $$"""
        name: overflow-abort-{{abortOnOverflow}}
        duration: 12s
        link: { delay: 5ms }
        kernel:
          server: { net.ipv4.tcp_syncookies: 0, net.ipv4.tcp_abort_on_overflow: {{abortOnOverflow}} }
        server: { port: 8080, backlog: 2, accept: { mode: rate, rate: 1, start_after: 500ms } }
        clients:
          count: 8
          steps:
            - connect: { timeout: 6s }
            - wait: 500ms
            - send: Ping
            - receive: { timeout: 1s }
        """;

    [LabFact]
    public async Task Abort_on_overflow_turns_silently_ignored_final_ACKs_into_resets()
    {
        var quiet = await RunScenarioAsync(Overflow(0));
        var abort = await RunScenarioAsync(Overflow(1));

        Assert.DoesNotContain(quiet.Connections.SelectMany(c => c.Steps), s => s.Result == CallResult.Reset);
        Assert.Equal(0, quiet.Counters["server"].GetValueOrDefault("TcpExtEmbryonicRsts"));

        var reset = abort.Connections.Where(c => c.Steps.Any(s => s.Result == CallResult.Reset)).ToList();
        Assert.NotEmpty(reset);
        Assert.True(abort.Counters["server"].GetValueOrDefault("TcpExtEmbryonicRsts") > 0);
        var abortAnalysis = ScenarioAnalysis.Analyze(abort);
        var quietAnalysis = ScenarioAnalysis.Analyze(quiet);
        Assert.DoesNotContain(quiet.Connections, c => quietAnalysis.ForConnection(c).Fate == "reset-at-handshake");
        foreach (var c in reset)
        {
            Assert.Equal("reset-at-handshake", abortAnalysis.ForConnection(c).Fate);
            Assert.True(abortAnalysis.ForConnection(c).HalfEstablished);
            // Reset at handshake: the client's kernel had completed connect(); the RST reached the client before its data,
            // sometimes even before the runtime read the connect's result (then connect() itself reports ECONNRESET).
            Assert.Contains(Step(c, ClientStep.Connect)!.Result, new[] { CallResult.Ok, CallResult.Reset });
            Assert.True(ServerReset(abort, c.Local!.Value));
            Assert.Null(AcceptedAt(abort, c.Local!.Value));
        }
    }

    [LabFact]
    public async Task A_server_that_resumes_accepting_completes_half_established_connections_late()
    {
        var run = await RunScenarioAsync("""
            name: resume
            duration: 15s
            link: { delay: 5ms }
            server: { port: 8080, backlog: 2, accept: { mode: immediately, pauses: [0s..3s] } }
            clients:
              count: 12
              steps:
                - connect: { timeout: 8s }
                - wait: 4s
                - send: Ping
                - receive: { timeout: 4s }
            """);
        // Accepted by the application long after connect() returned: either it waited complete in the accept queue
        // (the server's socket table showed it ESTABLISHED at once) or it was half-established until its data came.
        var late = run.Connections
            .Where(c => c.ConnectedAtMs is { } connectedAt && AcceptedAt(run, c.Local!.Value) is { } acceptedAt && acceptedAt - connectedAt > 2500)
            .ToList();
        Assert.NotEmpty(late);
        Assert.All(late, c => Assert.Equal(CallResult.Data, Step(c, ClientStep.Receive)!.Result));
        var analysis = ScenarioAnalysis.Analyze(run);
        var completeAtOnce = late.Where(c => run.ServerSockets.Any(s => s.Client == c.Local!.Value && s.State == TcpState.Established && s.AtMicroseconds / 1000.0 < c.ConnectedAtMs!.Value + 500)).ToList();
        var halfEstablished = late.Except(completeAtOnce).ToList();
        Assert.NotEmpty(halfEstablished);
        Assert.All(completeAtOnce, c => Assert.Equal("accepted", analysis.ForConnection(c).Fate));
        Assert.All(halfEstablished, c => Assert.Equal("accepted-late", analysis.ForConnection(c).Fate));
        Assert.All(halfEstablished, c => Assert.True(analysis.ForConnection(c).HalfEstablished));
        Assert.True(run.Counters["server"].GetValueOrDefault("TcpExtListenOverflows") > 0);
    }

    [LabFact]
    public async Task Syncookies_decide_the_kind_of_half_established_connection()
    {
        const string yaml = """
            name: cookies-{0}
            duration: 12s
            link: {{ delay: 5ms }}
            kernel:
              server: {{ net.ipv4.tcp_syncookies: {0}, net.ipv4.tcp_synack_retries: 2 }}
            server: {{ port: 8080, backlog: 2, accept: {{ mode: rate, rate: 1, start_after: 500ms }} }}
            clients:
              count: 10
              steps:
                - connect: {{ timeout: 6s }}
                - wait: 500ms
                - send: Ping
                - receive: {{ timeout: 2s }}
            """;
        var on = await RunScenarioAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, yaml, 1));
        var off = await RunScenarioAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, yaml, 0));
        var onAnalysis = ScenarioAnalysis.Analyze(on);
        var offAnalysis = ScenarioAnalysis.Analyze(off);

        // report.json comes from serialization code generated at build time (the native build has no reflection):
        // it must write what the reflection-based serializer writes, field for field.
        var report = ReportBuilder.Build([on, off], [onAnalysis, offAnalysis], "/tmp/run", [null, null]);
        var byReflection = new JsonSerializerOptions(RunReport.JsonOptions) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        Assert.Equal(JsonSerializer.Serialize(report, byReflection), report.ToJson());
        Assert.Contains("\"settings_changed\"", report.ToJson());

        Assert.True(on.Counters["server"].GetValueOrDefault("TcpExtSyncookiesSent") > 0);
        Assert.Contains(on.Connections, c => onAnalysis.ForConnection(c) is { HalfEstablished: true, Kind: "syncookie" });

        Assert.Equal(0, off.Counters["server"].GetValueOrDefault("TcpExtSyncookiesSent"));
        Assert.True(off.Counters["server"].GetValueOrDefault("TcpExtTCPReqQFullDrop") > 0, "with cookies off a full request queue drops SYNs");
        Assert.DoesNotContain(off.Connections, c => offAnalysis.ForConnection(c).Kind == "syncookie");
        Assert.Contains(off.Connections, c => offAnalysis.ForConnection(c) is { HalfEstablished: true, Kind: "request-socket" });
    }

    [LabFact]
    public void An_impossible_scenario_fails_before_any_lab_starts()
    {
        var tooMany = ScenarioParser.Parse("name: big\nserver: {}\nclients: { count: 50000, steps: [connect] }", "big.yaml");
        var fd = Assert.Throws<HalfwayException>(() => ScenarioRunner.Preflight([tooMany]));
        Assert.Contains("file descriptors", fd.Message);

        var unknown = ScenarioParser.Parse("name: u\nkernel: { server: { net.ipv4.tcp_bogus: 1 } }\nserver: {}\nclients: { steps: [connect] }", "u.yaml");
        var setting = Assert.Throws<ScenarioException>(() => ScenarioRunner.Preflight([unknown]));
        Assert.Equal("kernel.server.net.ipv4.tcp_bogus", setting.Field);
        Assert.Equal(2, setting.Line);
        Assert.StartsWith("u.yaml:2: kernel.server.net.ipv4.tcp_bogus: ", setting.Message);
        Assert.Contains("u.yaml", setting.Message);
    }
}
