using System.Diagnostics;
using Halfway.Runs;
using Halfway.Scenarios;
using static Halfway.Tests.Runs.RunAssertions;
using Halfway.Observe;

namespace Halfway.Tests.Runs;

[Collection(LabCollection.Name)]
public sealed class SeedScenarioTests
{
    /// <summary>`halfway run seed`: the three quick experiments, concurrently, each in its own lab.</summary>
    [LabFact]
    public async Task The_three_quick_seed_experiments_show_what_the_kernel_did()
    {
        var scenarios = ScenarioCatalog.Resolve(["seed"]);
        ScenarioRunner.Preflight(scenarios);
        var watch = Stopwatch.StartNew();
        var runs = await Task.WhenAll(scenarios.Select(s => Task.Run(() => ScenarioRunner.RunAsync(s, null, CancellationToken.None))));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(55), $"halfway run seed took {watch.Elapsed}");
        var byName = runs.ToDictionary(r => r.Scenario.Name);

        // 1. connect, wait 1-5 s, send, receive.
        var first = byName["seed-wait-send-receive"];
        var connected = first.Connections.Where(c => c.ConnectedAtMs is not null).ToList();
        var halfEstablished = connected.Where(c => AcceptedAt(first, c.Local!.Value) is not { } at || at - c.ConnectedAtMs!.Value > 500).ToList();
        Assert.NotEmpty(halfEstablished);
        foreach (var c in halfEstablished)
        {
            Assert.Equal(CallResult.Ok, Step(c, ClientStep.Send)!.Result);
            var receive = Step(c, ClientStep.Receive)!;
            var client = c.Local!.Value;
            switch (receive.Result)
            {
                case CallResult.Data:
                    Assert.True(ServerReplied(first, client), $"{client} received data but the server never replied to it");
                    break;
                case CallResult.Reset:
                    Assert.Equal("ECONNRESET", receive.Errno);
                    Assert.True(ServerReset(first, client), $"{client} got ECONNRESET but no RST reached it on the wire");
                    Assert.False(ServerReplied(first, client));
                    break;
                case CallResult.Timeout:
                    // A reply sent just before the deadline may still be crossing the link: allow it 50 ms (5 ms one way).
                    Assert.False(first.ServerEvents.Any(e => e.Kind == ServerEventKind.Replied && e.Client == client && e.AtMs + 50 < receive.AtMs),
                        $"{client} timed out although the server replied well before the deadline");
                    break;
                default:
                    Assert.Fail($"{client}: unexpected receive result {receive.Result} {receive.Errno}");
                    break;
            }
        }
        Assert.True(first.Counters["server"].GetValueOrDefault("TcpExtListenOverflows") > 0, "the accept queue never overflowed");

        // 3. connect, receive only: no call fails; never-accepted connections time out.
        var third = byName["seed-receive-only"];
        foreach (var c in third.Connections.Where(c => c.ConnectedAtMs is not null))
        {
            Assert.DoesNotContain(c.Steps, s => s.Result is CallResult.Reset or CallResult.Error or CallResult.Eof);
            if (AcceptedAt(third, c.Local!.Value) is null)
                Assert.Equal(CallResult.Timeout, Step(c, ClientStep.Receive)!.Result);
        }
        Assert.Contains(third.Connections, c => c.ConnectedAtMs is not null && AcceptedAt(third, c.Local!.Value) is null);

        // 2. connect, long wait, send: send succeeds after the wait.
        var second = byName["seed-long-wait-send"];
        var sent = second.Connections.Where(c => c.ConnectedAtMs is not null).Select(c => Step(c, ClientStep.Send)).ToList();
        Assert.NotEmpty(sent);
        Assert.All(sent, s => Assert.Equal(CallResult.Ok, s!.Result));
        Assert.All(second.Connections.Where(c => c.ConnectedAtMs is not null),
            c => Assert.True(Step(c, ClientStep.Send)!.AtMs - c.ConnectedAtMs!.Value >= 9_900, "send came before the 10 s wait ended"));
    }
}
