using System.Text;
using System.Text.RegularExpressions;
using Halfway.Observe;
using Halfway.Runs;
using Halfway.Tests.Packaging;
using Halfway.Traffic;
using static Halfway.Tests.Runs.RunAssertions;

namespace Halfway.Tests.Runs;

/// <summary>
/// The seed's own client library in the lab: Erlang gen_tcp (examples/erlang) against a server that never accepts.
/// What each copy's gen_tcp calls returned, from its own log, must agree with the fate halfway gives its connection.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ErlangSeedClientTests
{
    [LabFact]
    public async Task Gen_tcp_results_agree_with_each_connections_fate()
    {
        // Backlog 1 (a queue of 2), never accepted, request sockets given up after ~3 s, Ping sent after 4 s: some connects time out, the
        // rest connect; their Ping meets a full queue; recv/3 then returns closed when a RST came, timeout otherwise.
        var run = await RunScenarioAsync($$"""
            name: erlang-seed
            duration: 14s
            link: { delay: 5ms }
            kernel:
              server: { net.ipv4.tcp_synack_retries: 1 }
              client: { net.ipv4.tcp_syn_retries: 2 }
            server: { port: 8080, backlog: 1, accept: never }
            clients:
              command: [escript, gen_tcp_client.escript, "4000", "3000"]
              workdir: {{Path.Combine(Tool.RepositoryRoot(), "examples", "erlang")}}
              count: 8
            """);
        var analysis = ScenarioAnalysis.Analyze(run);
        Assert.Equal(8, run.Programs.Count);
        var logs = run.Programs.Select(p => Encoding.UTF8.GetString(p.Stdout)).ToList();
        string all = string.Join(" | ", logs);
        var recvByPort = new Dictionary<int, string>();
        int connectErrors = 0;
        foreach (var log in logs)
        {
            var connected = Regex.Match(log, @"^halfway-call port=([0-9]+) call=connect result=ok", RegexOptions.Multiline);
            if (!connected.Success)
            {
                Assert.True(log.Contains("connect error", StringComparison.Ordinal), $"a copy neither connected nor failed: {log}");
                connectErrors++;
                continue;
            }
            var recv = Regex.Match(log, @"^halfway-call port=[0-9]+ call=receive .* detail=gen_tcp (\{error,[a-z]+\}|\{ok,.*\})$", RegexOptions.Multiline);
            Assert.True(recv.Success, $"a connected copy logged no recv result: {log}");
            recvByPort[int.Parse(connected.Groups[1].Value)] = recv.Groups[1].Value;
        }
        Assert.True(recvByPort.Count > 0, $"no copy connected: {all}");
        Assert.Equal(8, recvByPort.Count + connectErrors);
        Assert.Equal(8, run.Connections.Count);
        foreach (var connection in run.Connections)
        {
            string fate = analysis.ForConnection(connection).Fate;
            int port = connection.Local!.Value.Port;
            bool connectedByFate = fate is not ("syn-dropped" or "refused" or "handshake-incomplete" or "unknown");
            Assert.True(connectedByFate == recvByPort.ContainsKey(port), $"{connection.Local}: fate {fate}\n{all}");
            if (!connectedByFate)
                continue;
            // The server never accepts, so no reply: gen_tcp says closed exactly when the server's RST came, as the seed saw.
            bool resetByFate = fate is "reset-on-data" or "reset-at-handshake";
            Assert.True(resetByFate == (recvByPort[port] == "{error,closed}"), $"{connection.Local}: fate {fate}, gen_tcp recv {recvByPort[port]}\n{all}");
            Assert.True(resetByFate || recvByPort[port] == "{error,timeout}", $"{connection.Local}: fate {fate}, gen_tcp recv {recvByPort[port]}");
            // The report's steps are the calls the client logged: connect, send, receive, with gen_tcp's own words.
            Assert.Equal([ClientStep.Connect, ClientStep.Send, ClientStep.Receive], connection.Steps.Select(x => x.Step));
            Assert.Equal($"gen_tcp {recvByPort[port]}", connection.Steps[2].Detail);
        }
        Assert.All(run.Programs, p => Assert.Empty(ProcessGroup.Members(p.Pid)));
        Assert.Empty(analysis.Contradictions);
    }
}
