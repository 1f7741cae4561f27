using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Observe;
using Halfway.Tests.Watch;
using Halfway.Wire;
using Xunit.Abstractions;

namespace Halfway.Tests.Observe;

/// <summary>The witness on its own, in a lab whose server drops final ACKs with a firewall (nftables in its namespace).</summary>
[Collection(LabCollection.Name)]
public sealed class KernelWitnessFirewallTests(ITestOutputHelper output)
{
    private const int Port = 8082;

    [LabFact]
    public async Task A_firewall_drop_in_the_servers_namespace_is_named_NETFILTER_DROP_with_no_listener()
    {
        using var lab = LabNetwork.CreatePair("witness-nft", new LinkOptions());
        var sockets = new List<Socket>();
        try
        {
            sockets.Add(lab.Server.Run(() =>
            {
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Any, Port));
                listener.Listen(16);
                return listener;
            }));
            WatchAlertLabTests.Nft(lab.Server, $"add table inet halfway_lab\nadd chain inet halfway_lab input {{ type filter hook input priority 0; }}\nadd rule inet halfway_lab input tcp dport {Port} tcp flags & (fin|syn|rst|psh|ack) == ack drop\n");
            uint inode = lab.Server.Run(KernelWitness.CurrentNamespaceInode);
            using var witness = KernelWitness.TryStart(inode, lab.Clock.ToMicroseconds, null, null, out string? why);
            Assert.True(witness is not null, why);
            var clients = new List<IpEndpoint>();
            for (int i = 0; i < 3; i++)
            {
                var client = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                sockets.Add(client);
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, Port), bound.Token);
                clients.Add(IpEndpoint.From((IPEndPoint)client.LocalEndPoint!));
            }
            // The requests re-send their SYN-ACK after ~1 s; each re-ACK meets the firewall again.
            await Task.Delay(TimeSpan.FromMilliseconds(1500));
            var events = witness.Stop();
            foreach (var e in events)
                output.WriteLine($"{e.AtMicroseconds / 1000.0:F1} ms {e.Kind} {e.Client} -> {e.Server} {e.Reason} {e.Flags} {e.Listener}");
            foreach (var client in clients)
            {
                var drops = events.Where(e => e.Kind == KernelEventKind.PacketDropped && e.Client == client).ToList();
                Assert.True(drops.Count >= 2, $"{client}: {drops.Count} drops (the final ACK and the re-ACK)");
                // Dropped before TCP looked up a socket: the reason names the firewall, and there is no listener.
                Assert.All(drops, d => Assert.True(d is { Reason: "NETFILTER_DROP", Flags: TcpFlags.Ack, Listener: null }, $"{d}"));
                Assert.Contains(events, e => e.Kind == KernelEventKind.SynAckRetransmitted && e.Client == client);
            }
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }
}
