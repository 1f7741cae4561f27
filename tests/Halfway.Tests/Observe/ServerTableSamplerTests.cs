using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Tests.Observe;

/// <summary>The server sampler, moved out of Runs, records through its own sink: listener, connections and cost.</summary>
[Collection(LabCollection.Name)]
public sealed class ServerTableSamplerTests
{
    private sealed class Recorder : IServerTableSink
    {
        public List<(IpEndpoint Client, TcpState? State)> Sockets { get; } = new();
        public List<(uint Queue, uint Limit, int SynRecv)> Listener { get; } = new();
        public List<long> Times { get; } = new();

        public void SocketChanged(long atMicroseconds, IpEndpoint client, IpEndpoint server, TcpState? state, int retransmits) => Sockets.Add((client, state));

        public void ListenerSampled(double atMilliseconds, uint acceptQueue, uint acceptQueueLimit, int synRecv, uint drops) => Listener.Add((acceptQueue, acceptQueueLimit, synRecv));

        public void Sampled(long atMicroseconds, TimeSpan cpuTime) => Times.Add(atMicroseconds);
    }

    [LabFact]
    public void Records_the_listener_queue_and_each_connection_until_it_is_gone()
    {
        using var host = LabHost.Create("table-sampler");
        var clients = new List<Socket>();
        using var listener = host.Run(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, 7100));
            socket.Listen(3);
            for (int i = 0; i < 2; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client.Connect(new IPEndPoint(IPAddress.Loopback, 7100));
                clients.Add(client);
            }
            return socket;
        });
        var recorder = new Recorder();
        long now = 0;
        var table = host.Run(() => new SocketTable());
        using (var sampler = new ServerTableSampler(table, 7100, () => now += 1000, recorder))
        {
            // Not accepted: the children sit in the accept queue until the listener closes.
            Assert.Equal((2u, 3u, 0), recorder.Listener[0]);
            var established = recorder.Sockets.Where(s => s.State == TcpState.Established).Select(s => s.Client).ToList();
            Assert.Equal(clients.Select(c => IpEndpoint.From((IPEndPoint)c.LocalEndPoint!).ToString()).Order(), established.Select(e => e.ToString()).Order());
            listener.Close();
            sampler.Stop();
        }
        foreach (var client in clients)
            client.Dispose();
        Assert.Equal(2, recorder.Sockets.Count(s => s.State is null));
        Assert.True(recorder.Times.Count >= 2);
        Assert.Equal(recorder.Times.Order(), recorder.Times);
    }
}
