using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Observe.Watch;

namespace Halfway.Tests.Watch;

[Collection(LabCollection.Name)]
public sealed class WatchSamplerLabTests
{
    [LabFact]
    public void A_quiet_listener_skips_the_syn_recv_walk_and_a_full_one_is_walked()
    {
        using var host = LabHost.Create("watch-scan");
        var sockets = new List<Socket>();
        try
        {
            sockets.Add(host.Run(() =>
            {
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 8080));
                listener.Listen(1);
                return listener;
            }));
            using var sampler = host.Run(() => new WatchSampler([WatchTarget.Parse("8080")], "test"));

            Assert.True(host.Run(sampler.Sample).SynRecvScanned, "the first sample must walk the table");
            var quiet = host.Run(sampler.Sample);
            Assert.False(quiet.SynRecvScanned, "nothing hinted at request sockets, yet the sample walked the table");
            Assert.Equal(0, Assert.Single(quiet.Listeners).AcceptQueue);

            // Backlog 1 holds 2 connections: the queue is full, and the next sample walks again.
            host.Run(() =>
            {
                for (int i = 0; i < 2; i++)
                {
                    var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    client.Connect(new IPEndPoint(IPAddress.Loopback, 8080));
                    sockets.Add(client);
                }
            });
            var full = host.Run(sampler.Sample);
            Assert.True(full.SynRecvScanned);
            var listener = Assert.Single(full.Listeners);
            Assert.Equal(2, listener.AcceptQueue);
            Assert.Equal(1, listener.AcceptQueueLimit);
            Assert.True(listener.AcceptQueueFull);
            Assert.Contains(full.Alerts, a => a.StartsWith("started: accept queue of 127.0.0.1:8080 full (2 of 1)", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }
}
