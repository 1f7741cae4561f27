using System.Diagnostics;
using System.Net;
using Halfway.Lab;
using Halfway.Scenarios;
using Halfway.Traffic;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Tests.Runs;

/// <summary>The client's connects, completed by its own epoll poller: every outcome the kernel can give, and the bounds.</summary>
[Collection(LabCollection.Name)]
public sealed class ClientConnectTests
{
    private static ClientSpec Connects(int count, TimeSpan? timeout, params Step[] more) =>
        new() { Count = count, Steps = [new Step { Kind = ClientStep.Connect, Timeout = timeout }, .. more] };

    private static LabNetwork PairDroppingSyns(string name) => LabNetwork.CreatePair(name, new LinkOptions
    {
        DropRules = [new DropRule { Name = "every SYN", Direction = LinkDirection.ClientToServer, Flags = TcpFlags.Syn }],
    });

    [LabFact]
    public async Task A_port_without_listener_refuses_every_connect()
    {
        using var lab = LabNetwork.CreateSingle("refused");
        var client = new TrafficClient(Connects(50, TimeSpan.FromSeconds(5)), lab.Clock, new IPEndPoint(IPAddress.Loopback, 7100));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.RunAsync(lab.Client, bound.Token);

        Assert.All(client.Connections, c =>
        {
            var connect = Assert.Single(c.Steps);
            Assert.Equal((CallResult.Refused, "ECONNREFUSED"), (connect.Result, connect.Errno));
            Assert.Null(c.ConnectedAtMs);
            Assert.True(c.Finished);
        });
    }

    [LabFact]
    public async Task Connects_whose_SYNs_are_lost_end_at_their_timeout_not_before()
    {
        using var lab = PairDroppingSyns("connect-timeout");
        var timeout = TimeSpan.FromMilliseconds(300);
        var client = new TrafficClient(Connects(20, timeout, new Step { Kind = ClientStep.Send, Data = "never" }), lab.Clock,
            new IPEndPoint(LabNetwork.PairServerAddress, 7101));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watch = Stopwatch.StartNew();
        await client.RunAsync(lab.Client, bound.Token);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the run took {watch.Elapsed}");
        Assert.All(client.Connections, c =>
        {
            // A failed connect ends the connection: the send step never runs.
            var connect = Assert.Single(c.Steps);
            Assert.Equal((CallResult.Timeout, (string?)null), (connect.Result, connect.Errno));
            Assert.True(connect.DurationMs >= timeout.TotalMilliseconds, $"timed out after {connect.DurationMs} ms");
            Assert.Equal("SYN-SENT", connect.Info?.State);
            Assert.NotNull(c.Local); // recorded while pending, so the lost SYNs can be matched to it
        });
    }

    [LabFact]
    public async Task The_runs_bound_cancels_connects_still_pending()
    {
        using var lab = PairDroppingSyns("connect-bound");
        var client = new TrafficClient(Connects(20, null), lab.Clock, new IPEndPoint(LabNetwork.PairServerAddress, 7102));
        using var bound = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.RunAsync(lab.Client, bound.Token).WaitAsync(guard.Token);

        Assert.All(client.Connections, c => Assert.Equal(CallResult.Cancelled, Assert.Single(c.Steps).Result));
    }

    [LabFact]
    public async Task Connected_sockets_carry_the_options_and_go_on_with_their_steps()
    {
        using var lab = LabNetwork.CreateSingle("connect-options");
        var server = new ServerSpec { Port = 7103, Backlog = 512, Reply = "Pong", Accept = new AcceptPolicy { Mode = AcceptMode.Immediately } };
        await using var listener = TrafficServer.Start(lab.Server, server, lab.Clock);
        var spec = Connects(200, TimeSpan.FromSeconds(5),
            new Step { Kind = ClientStep.Send, Data = "Ping" },
            new Step { Kind = ClientStep.Receive, Timeout = TimeSpan.FromSeconds(5) },
            // Long enough for `ss` to start on a loaded machine: the sockets close when the last wait ends.
            new Step { Kind = ClientStep.Wait, WaitMin = TimeSpan.FromSeconds(4), WaitMax = TimeSpan.FromSeconds(4) }) with
        {
            Options = new SocketOptions { KeepAliveIdle = TimeSpan.FromSeconds(30), KeepAliveInterval = TimeSpan.FromSeconds(5), KeepAliveCount = 3, NoDelay = true },
        };
        var client = new TrafficClient(spec, lab.Clock, new IPEndPoint(IPAddress.Loopback, 7103));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = client.RunAsync(lab.Client, bound.Token);

        // While the clients wait, the kernel shows each of their sockets with a keepalive timer.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (client.Connections.Any(c => c.Steps.Count < 3) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        using var ss = lab.Client.StartProcess(new ProcessStartInfo("ss", "-tno state established dport = :7103") { RedirectStandardOutput = true });
        string table = await ss.StandardOutput.ReadToEndAsync();
        Assert.True(ss.WaitForExit(5000));
        Assert.False(run.IsCompleted, "the clients finished before ss listed their sockets");
        await run;

        Assert.All(client.Connections, c =>
        {
            Assert.Equal([CallResult.Ok, CallResult.Ok, CallResult.Data, CallResult.Ok], c.Steps.Select(s => s.Result));
            Assert.Equal("Pong", c.Steps[2].Detail);
            Assert.NotNull(c.ConnectedAtMs);
        });
        var rows = table.Split('\n').Where(line => line.Contains(":7103")).ToList();
        Assert.Equal(200, rows.Count);
        Assert.All(rows, row => Assert.Contains("timer:(keepalive", row));
    }
}
