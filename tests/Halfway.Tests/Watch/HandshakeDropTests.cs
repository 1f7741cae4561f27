using System.Net;
using System.Text.Json;
using Halfway.Observe;
using Halfway.Observe.Watch;
using Halfway.Wire;

namespace Halfway.Tests.Watch;

public sealed class HandshakeDropTests
{
    private static readonly IpEndpoint Listener = IpEndpoint.From(new IPEndPoint(IPAddress.Any, 8080));
    private static readonly IpEndpoint Server = IpEndpoint.From(IPEndPoint.Parse("10.0.0.1:8080"));

    private static KernelEventObservation Drop(int clientPort, string reason, bool withListener = true) =>
        new(0, IpEndpoint.From(IPEndPoint.Parse($"10.0.0.2:{clientPort}")), Server, KernelEventKind.PacketDropped, reason)
        {
            Flags = TcpFlags.Ack,
            Listener = withListener ? new KernelListenerState(Listener, 5, 4) : null,
        };

    [Fact]
    public void The_tally_counts_per_listener_and_reason_keeps_the_latest_clients_and_counts_the_rest()
    {
        var tally = new HandshakeDropTally();
        for (int port = 40000; port < 40012; port++)
            tally.Add(Drop(port, "TCP_LISTEN_OVERFLOW"));
        tally.Add(Drop(41000, "NO_SOCKET"));
        tally.Add(Drop(42000, "NETFILTER_DROP", withListener: false)); // not a listener's drop
        tally.Add(new KernelEventObservation(0, Drop(1, "x").Client, Server, KernelEventKind.SynAckRetransmitted));

        var first = tally.TakeInterval();
        Assert.Equal(2, first.Count);
        var overflow = Assert.Single(first, d => d.Reason == "TCP_LISTEN_OVERFLOW");
        Assert.Equal(("0.0.0.0:8080", 12L, 12L, 4L), (overflow.Listener, overflow.Total, overflow.Delta, overflow.MoreClients));
        Assert.Equal(Enumerable.Range(40004, 8).Select(p => $"10.0.0.2:{p}"), overflow.Clients);

        tally.Add(Drop(40100, "TCP_LISTEN_OVERFLOW"));
        var second = tally.TakeInterval();
        var again = Assert.Single(second, d => d.Reason == "TCP_LISTEN_OVERFLOW");
        Assert.Equal((13L, 1L, 0L), (again.Total, again.Delta, again.MoreClients));
        Assert.Equal(0, Assert.Single(second, d => d.Reason == "NO_SOCKET").Delta);
    }

    [Fact]
    public void Json_plain_and_prometheus_carry_the_drops_and_promtool_accepts_them()
    {
        var tally = new HandshakeDropTally();
        tally.Add(Drop(40000, "TCP_LISTEN_OVERFLOW"));
        tally.Add(Drop(40001, "TCP_LISTEN_OVERFLOW"));
        var sample = WatchOutputTests.Sample() with { KernelWitness = "on", HandshakeDrops = tally.TakeInterval(), KernelEventsLost = 3 };

        var root = JsonDocument.Parse(JsonSampleWriter.Format(sample)).RootElement;
        Assert.Equal("on", root.GetProperty("kernel_witness").GetString());
        Assert.Equal(3, root.GetProperty("kernel_events_lost").GetInt64());
        var drops = root.GetProperty("handshake_drops")[0];
        Assert.Equal(("0.0.0.0:8080", "TCP_LISTEN_OVERFLOW", 2L, 2L), (drops.GetProperty("listener").GetString(), drops.GetProperty("reason").GetString(),
            drops.GetProperty("total").GetInt64(), drops.GetProperty("delta").GetInt64()));
        Assert.Equal(2, drops.GetProperty("clients").GetArrayLength());

        Assert.Contains("kernel dropped 2 packets for listener 0.0.0.0:8080: TCP_LISTEN_OVERFLOW (total 2); clients 10.0.0.2:40000, 10.0.0.2:40001\n",
            PlainSampleWriter.Format(sample));

        string text = PrometheusExposition.Format(sample);
        Assert.Contains("halfway_listener_handshake_drops_total{listener=\"0.0.0.0:8080\",reason=\"TCP_LISTEN_OVERFLOW\"} 2\n", text);
        Assert.Contains("halfway_kernel_witness_up 1\n", text);
        Assert.Contains("halfway_kernel_witness_events_lost_total 3\n", text);
        var (exitCode, output) = Promtool.CheckMetrics(text);
        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}): {output}");
    }
}
