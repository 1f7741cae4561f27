using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Observe;

namespace Halfway.Tests.Watch;

/// <summary>
/// A lab server whose listener (backlog 4) never accepts while a storm of connections runs, across a
/// link with 5 ms each way. The link loses the final ACK of the first 4 handshakes, so their request
/// sockets stay in SYN-RECV; 5 more connections fill the accept queue (backlog + 1 = 5); then the
/// storm's SYNs meet a full queue and are dropped, and the requests' re-sent SYN-ACKs draw re-ACKs
/// that the kernel ignores because the queue is full (ListenOverflows, listener drops).
/// </summary>
internal sealed class OverflowingListener : IDisposable
{
    public const int Port = 8080;
    public const int Backlog = 4;
    public const int LostFinalAcks = 4;
    public const int Storm = 20;

    private readonly List<Socket> _sockets = new();
    private readonly CancellationTokenSource _stop = new();

    private readonly int _storm;

    private OverflowingListener(LabNetwork lab, int storm)
    {
        Lab = lab;
        _storm = storm;
    }

    public LabNetwork Lab { get; }

    public LabHost Server => Lab.Server;

    /// <param name="storm">SYNs sent once the queue is full; with none, only the requests' re-ACKs meet the full queue.</param>
    public static async Task<OverflowingListener> StartAsync(string name, int storm = Storm)
    {
        var lab = LabNetwork.CreatePair(name, new LinkOptions
        {
            DropRules =
            [
                new DropRule { Name = "lost final ACK", Direction = LinkDirection.ClientToServer, HandshakeAck = true, FirstConnections = LostFinalAcks },
            ],
        });
        var listener = new OverflowingListener(lab, storm);
        try
        {
            await listener.RunAsync();
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private async Task RunAsync()
    {
        _sockets.Add(Server.Run(() =>
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Any, Port));
            listener.Listen(Backlog);
            return listener;
        }));
        using var table = Server.Run(() => new SocketTable());

        await ConnectAllAsync(LostFinalAcks);
        await WaitForAsync(table, "4 request sockets in SYN-RECV", r => r.Count(s => s.State == TcpState.SynRecv) >= LostFinalAcks);
        await ConnectAllAsync(Backlog + 1);
        await WaitForAsync(table, "an accept queue of 5", r => r.Any(s => s.State == TcpState.Listen && s.ReceiveQueue == Backlog + 1));
        for (int i = 0; i < _storm; i++)
        {
            var client = NewClient();
            // The SYNs meet a full queue: these connects stay pending (SYN-SENT, retrying) until the lab ends.
            _ = client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, Port), _stop.Token).AsTask()
                .ContinueWith(t => t.Exception, TaskScheduler.Default);
        }
        // About 1 s after their SYN, the requests re-send their SYN-ACK; the clients' re-ACKs are then ignored.
        await WaitForAsync(table, "SYN-RECV requests that re-sent their SYN-ACK",
            r => r.Count(s => s.State == TcpState.SynRecv && s.Retransmits > 0) >= 1, TimeSpan.FromSeconds(8));
    }

    private Socket NewClient()
    {
        var client = Lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        _sockets.Add(client);
        return client;
    }

    private async Task ConnectAllAsync(int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var connects = Enumerable.Range(0, count)
            .Select(_ => NewClient().ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, Port), timeout.Token).AsTask())
            .ToList();
        await Task.WhenAll(connects);
    }

    private static async Task WaitForAsync(SocketTable table, string what, Func<List<SocketRecord>, bool> condition, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(5));
        while (!condition(table.Read([TcpState.Listen, TcpState.SynRecv], [Port])))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the lab never reached {what}: {string.Join("; ", table.Read([TcpState.Listen, TcpState.SynRecv], [Port]))}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var socket in _sockets)
            socket.Dispose();
        Lab.Dispose();
        _stop.Dispose();
    }
}
