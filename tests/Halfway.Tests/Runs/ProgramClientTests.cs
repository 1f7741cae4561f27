using System.Text;
using System.Text.RegularExpressions;
using Halfway.Runs;
using Halfway.Tests.Packaging;
using Halfway.Traffic;
using static Halfway.Tests.Runs.RunAssertions;

namespace Halfway.Tests.Runs;

/// <summary>The user's own client program in the lab: its connections are found on the wire, and their fates agree with its own log.</summary>
[Collection(LabCollection.Name)]
public sealed class ProgramClientTests
{
    [LabFact]
    public async Task Python_clients_against_a_full_queue_their_fates_agree_with_what_each_copy_logged()
    {
        // Backlog 1, never accepted: two connections fit the accept queue, the other SYNs are dropped until connect() gives up.
        var run = await RunScenarioAsync($$"""
            name: python-clients
            duration: 6s
            link: { delay: 5ms }
            server: { port: 8080, backlog: 1, accept: never }
            clients:
              command: [python3, client.py, --wait, "0.2", --timeout, "0.5", --connect-timeout, "1.5"]
              workdir: {{Path.Combine(Tool.RepositoryRoot(), "examples", "python")}}
              count: 5
            """);
        var analysis = ScenarioAnalysis.Analyze(run);
        Assert.Equal(5, run.Programs.Count);
        var logs = run.Programs.Select(p => Encoding.UTF8.GetString(p.Stdout)).ToList();
        var connectedPorts = logs.Select(l => Regex.Match(l, @"connect ok [0-9.]+:([0-9]+)")).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        int failed = logs.Count(l => l.Contains("connect failed", StringComparison.Ordinal));
        Assert.Equal(5, connectedPorts.Count + failed);
        Assert.True(connectedPorts.Count is > 0 and < 5, string.Join(" | ", logs));
        // Every copy's SYN is on the wire, one connection each, and the ones its log says connected are the ones with a connected fate.
        Assert.Equal(5, run.Connections.Count);
        foreach (var connection in run.Connections)
        {
            string fate = analysis.ForConnection(connection).Fate;
            bool connectedByFate = fate is not ("syn-dropped" or "refused" or "handshake-incomplete" or "unknown");
            Assert.True(connectedByFate == connectedPorts.Contains(connection.Local!.Value.Port), $"{connection.Local}: fate {fate}\n{string.Join(" | ", logs)}");
        }
        // The client host's table agrees: the connected copies' sockets were ESTABLISHED there (each stays 0.7 s), the others only SYN-SENT.
        var establishedPorts = run.ClientSockets.Where(x => x.State == Halfway.Observe.TcpState.Established).Select(x => (int)x.Client.Port).ToHashSet();
        Assert.True(establishedPorts.SetEquals(connectedPorts), $"ESTABLISHED on the client: {string.Join(", ", establishedPorts)}; logged: {string.Join(", ", connectedPorts)}");
        Assert.All(run.Programs, p => Assert.Equal("exited", p.EndedBy));
        Assert.All(run.Programs, p => Assert.Empty(ProcessGroup.Members(p.Pid)));
        Assert.Empty(analysis.Contradictions);
    }
}
