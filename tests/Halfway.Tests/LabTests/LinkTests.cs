using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Halfway.Lab;

namespace Halfway.Tests.LabTests;

[Collection(LabCollection.Name)]
public sealed class LinkTests
{
    [LabFact]
    public async Task Tcp_across_the_link_sees_a_round_trip_of_twice_the_one_way_delay()
    {
        var delay = TimeSpan.FromMilliseconds(20);
        using var lab = LabNetwork.CreatePair("rtt", new LinkOptions
        {
            ClientToServer = new LinkImpairment { Delay = delay },
            ServerToClient = new LinkImpairment { Delay = delay },
        });
        using var listener = lab.Server.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Any, 7000));
            s.Listen(16);
            return s;
        });
        using var client = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var acceptTask = listener.AcceptAsync(cts.Token).AsTask();
        await client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, 7000), cts.Token);
        using var accepted = await acceptTask;
        var buffer = new byte[4];
        var fastest = TimeSpan.MaxValue;
        for (int i = 0; i < 20; i++)
        {
            var watch = Stopwatch.StartNew();
            await client.SendAsync("ping"u8.ToArray(), SocketFlags.None, cts.Token);
            await accepted.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            await accepted.SendAsync("pong"u8.ToArray(), SocketFlags.None, cts.Token);
            await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (watch.Elapsed < fastest)
                fastest = watch.Elapsed;
        }
        var info = Halfway.Traffic.TcpInfo.Read(client);
        // The delay is applied once in each direction: a round trip is never shorter than twice the one-way delay,
        // and the fastest of 20 stays well short of three times it (a delay applied twice would give four). A busy
        // machine only adds to it (the forwarder wakes late), which is why the bound is on the fastest exchange and
        // the kernel's smoothed RTT only has to agree on the lower side.
        double oneWayMs = delay.TotalMilliseconds;
        Assert.InRange(fastest.TotalMilliseconds, 2 * oneWayMs * 0.95, 3 * oneWayMs);
        Assert.True(info.RttMicroseconds / 1000.0 >= 2 * oneWayMs * 0.95, $"kernel RTT {info.RttMicroseconds} us");
    }
}

[Collection(LabCollection.Name)]
public sealed class LinkImpairmentTests
{
    [LabFact]
    public async Task Dropping_the_clients_pure_ACKs_leaves_the_client_established_and_the_server_in_SYN_RECV()
    {
        var clock = new LabClock();
        using var lab = LabNetwork.CreatePair("ackdrop", new LinkOptions
        {
            DropRules =
            [
                new DropRule
                {
                    Name = "pure ACKs to 7001 for 2 s", Direction = LinkDirection.ClientToServer, Flags = Halfway.Wire.TcpFlags.Ack,
                    PayloadMax = 0, DestinationPort = 7001, Until = TimeSpan.FromSeconds(2),
                },
            ],
        }, clock: clock);
        using var listener = lab.Server.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Any, 7001));
            s.Listen(8);
            return s;
        });
        using var client = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var accept = listener.AcceptAsync(cts.Token).AsTask();
        await client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, 7001), cts.Token);
        Assert.Equal("ESTABLISHED", Halfway.Traffic.TcpInfo.Read(client).State);
        string local = client.LocalEndPoint!.ToString()!;

        var ss = lab.Server.StartProcess(new System.Diagnostics.ProcessStartInfo("ss", "-tanH state syn-recv") { RedirectStandardOutput = true });
        string table = await ss.StandardOutput.ReadToEndAsync(cts.Token);
        await ss.WaitForExitAsync(cts.Token);
        Assert.Contains(local, table);
        Assert.False(accept.IsCompleted, "accept() must not return while the final ACK is being dropped");

        // Once the rule ends, a re-ACK of a re-sent SYN-ACK completes the handshake: the connection heals.
        using var accepted = await accept;
        Assert.True(clock.NowMilliseconds >= 2000, $"accepted at {clock.NowMilliseconds} ms, before the drop window ended");
        Assert.Equal(local, accepted.RemoteEndPoint!.ToString());
    }

    [LabFact]
    public async Task Random_loss_over_10000_packets_is_within_bounds_and_repeats_with_the_same_seed()
    {
        var first = await DropPattern(seed: 42);
        var again = await DropPattern(seed: 42);
        var other = await DropPattern(seed: 43);
        // Binomial(10000, 0.1): mean 1000, standard deviation 30; five deviations either side.
        Assert.InRange(first.Count, 850, 1150);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    /// <summary>Sends 10 000 UDP datagrams across a link with 10% loss; returns the ordinals (as seen by the link) it dropped.</summary>
    private static async Task<List<long>> DropPattern(int seed)
    {
        var packets = new List<LinkPacket>();
        using (var lab = LabNetwork.CreatePair("loss", new LinkOptions
        {
            ClientToServer = new LinkImpairment { Delay = TimeSpan.Zero, Loss = 0.1, Seed = seed },
        }, packet => { lock (packets) packets.Add(packet); }))
        {
            using var receiver = lab.Server.Run(() =>
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                s.Bind(new IPEndPoint(IPAddress.Any, 9000));
                return s;
            });
            using var sender = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
            var target = new IPEndPoint(LabNetwork.PairServerAddress, 9000);
            var payload = new byte[8];
            // The kernel queues what the forwarder has not read yet (TunLink.TransmitQueueLength) and drops the rest
            // silently; on a busy machine the forwarder can fall seconds behind a sender, so the sender waits for it
            // (bounded) instead of trusting a fixed pace.
            // /sys shows the host's namespace, so ask `ip` inside the lab host.
            using (var ip = lab.Client.StartProcess(new ProcessStartInfo("ip", $"link show {TunLink.InterfaceName}") { RedirectStandardOutput = true }))
            {
                string shown = await ip.StandardOutput.ReadToEndAsync();
                Assert.True(ip.WaitForExit(5000));
                Assert.Contains($"qlen {TunLink.TransmitQueueLength}", shown);
            }
            var paceDeadline = DateTime.UtcNow.AddSeconds(20);
            for (int i = 0; i < 10_000; i++)
            {
                BitConverter.TryWriteBytes(payload, i);
                sender.SendTo(payload, target);
                while (i % 100 == 99 && lab.Link!.PacketsSeen < i + 1 - 1000 && DateTime.UtcNow < paceDeadline)
                    await Task.Delay(1);
            }
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                lock (packets)
                {
                    if (packets.Count >= 10_000)
                        break;
                }
                await Task.Delay(20);
            }
            Assert.Contains($"{TunLink.InterfaceName}:", lab.Client.ReadProcNet("dev"));
            Assert.Equal(0, TunLink.QueueDrops(lab.Client));
        }
        lock (packets)
        {
            // The datagram's own counter, not the order of SeenAt: the link reads a burst within one microsecond, and
            // reports its drops at once but its deliveries after the burst, so equal times do not keep the link's order.
            var udp = packets.Where(p => p.Direction == LinkDirection.ClientToServer && p.Bytes.Length >= 32 && p.Bytes[9] == 17)
                .Select(p => (Packet: p, Ordinal: BitConverter.ToInt32(p.Bytes, 28))).OrderBy(x => x.Ordinal).ToList();
            Assert.Equal(Enumerable.Range(0, 10_000), udp.Select(x => x.Ordinal));
            return udp.Where(x => x.Packet.Action == LinkAction.Dropped).Select(x => (long)x.Ordinal).ToList();
        }
    }
}

public sealed class LinkQueueDropTests
{
    [Fact]
    public void Queue_drops_are_the_transmit_drops_of_the_link_interface()
    {
        const string table = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    1200      12    0    0    0     0          0         0     1200      12    0    7    0     0       0          0
               hw0: 5000000   40000    0    3    0     0          0         0  6000000   45000    0  321    0     0       0          0
            """;
        Assert.Equal(321, TunLink.QueueDrops(table));
        Assert.Equal(0, TunLink.QueueDrops(table.Replace("hw0", "eth0")));
    }
}
