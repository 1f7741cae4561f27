using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Halfway.Lab;
using Halfway.Native;
using Halfway.Observe;
using Halfway.Scenarios;
using Halfway.Wire;

namespace Halfway.Traffic;

/// <summary>
/// The scenario's server application: a listener with a backlog, accept loops that follow the
/// accept policy (immediately, never, at a rate, after a delay, paused in windows), and a responder
/// that greets and answers each message. Every accept, message, reply and close is an event.
/// </summary>
internal sealed class TrafficServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly ServerSpec _spec;
    private readonly LabClock _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = new();
    private readonly ConcurrentBag<Socket> _accepted = new();
    private readonly ConcurrentQueue<ServerEvent> _events = new();
    private readonly object _rateGate = new();
    private long _acceptCount;
    private double _nextAcceptAtMs;

    private TrafficServer(Socket listener, ServerSpec spec, LabClock clock)
    {
        _listener = listener;
        _spec = spec;
        _clock = clock;
    }

    public IEnumerable<ServerEvent> Events => _events;

    public long AcceptCount => Interlocked.Read(ref _acceptCount);

    public static TrafficServer Start(LabHost host, ServerSpec spec, LabClock clock) =>
        Start(host.Run(() => Listen(spec)), spec, clock);

    /// <summary>The scenario's listening socket, in the namespace of the calling thread.</summary>
    public static Socket Listen(ServerSpec spec)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (spec.DeferAcceptSeconds is { } seconds)
            socket.SetRawSocketOption(SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_DEFER_ACCEPT, BitConverter.GetBytes(seconds));
        socket.Bind(new IPEndPoint(IPAddress.Any, spec.Port));
        socket.Listen(spec.Backlog);
        return socket;
    }

    /// <summary>Serves on a listener created by the caller, in whatever namespace the caller's thread is in.</summary>
    public static TrafficServer Start(Socket listener, ServerSpec spec, LabClock clock)
    {
        var server = new TrafficServer(listener, spec, clock);
        if (spec.Accept.Mode != AcceptMode.Never)
        {
            for (int i = 0; i < spec.Accept.Acceptors; i++)
                server._loops.Add(Task.Run(server.AcceptLoopAsync));
        }
        return server;
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        var policy = _spec.Accept;
        try
        {
            await DelayUntilAsync(policy.StartAfter.TotalMilliseconds, token);
            while (!token.IsCancellationRequested)
            {
                foreach (var (from, until) in policy.Pauses)
                {
                    double now = _clock.NowMilliseconds;
                    if (now >= from.TotalMilliseconds && now < until.TotalMilliseconds)
                        await DelayUntilAsync(until == TimeSpan.MaxValue ? double.MaxValue : until.TotalMilliseconds, token);
                }
                if (policy.Mode == AcceptMode.Rate)
                    await DelayUntilAsync(ReserveRateSlot(policy.Rate), token);
                var socket = await _listener.AcceptAsync(token);
                double at = _clock.NowMilliseconds;
                Interlocked.Increment(ref _acceptCount);
                _accepted.Add(socket);
                // Read straight from the kernel: .NET's endpoint properties allocate several objects per socket.
                var remote = SocketNames.Remote(socket) ?? default;
                var local = SocketNames.Local(socket) ?? default;
                _events.Enqueue(new ServerEvent(ServerEventKind.Accepted, remote, local, at, 0));
                // Started inline: it runs only up to its first pending receive, cheaper than a thread-pool hop per accept.
                var responder = RespondAsync(socket, remote, local, token);
                if (!responder.IsCompleted)
                {
                    lock (_loops)
                        _loops.Add(responder);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException e)
        {
            _events.Enqueue(new ServerEvent(ServerEventKind.AcceptFailed, default, default, _clock.NowMilliseconds, 0, Errno.Name(e.SocketErrorCode)));
        }
    }

    /// <summary>Shares one schedule between acceptors: the k-th accept may happen at start + k/rate.</summary>
    private double ReserveRateSlot(double rate)
    {
        lock (_rateGate)
        {
            double slot = Math.Max(_nextAcceptAtMs, _clock.NowMilliseconds);
            _nextAcceptAtMs = slot + 1000.0 / rate;
            return slot;
        }
    }

    private async Task DelayUntilAsync(double atMs, CancellationToken token)
    {
        while (true)
        {
            double remaining = atMs - _clock.NowMilliseconds;
            if (remaining <= 0)
                return;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(remaining, 1000)), token);
        }
    }

    private async Task RespondAsync(Socket socket, IpEndpoint remote, IpEndpoint local, CancellationToken token)
    {
        byte[]? buffer = null;
        try
        {
            if (_spec.Greeting is { } greeting)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(greeting), SocketFlags.None, token);
                _events.Enqueue(new ServerEvent(ServerEventKind.Greeted, remote, local, _clock.NowMilliseconds, greeting.Length));
            }
            while (!token.IsCancellationRequested)
            {
                // Wait for data with an empty read first, and borrow a buffer only to read it: a storm's thousands of
                // idle connections then hold no buffer each (a fresh 4 KB per accept made the GC a storm's bottleneck).
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token);
                buffer = ArrayPool<byte>.Shared.Rent(4096);
                int received = await socket.ReceiveAsync(buffer, SocketFlags.None, token);
                if (received == 0)
                {
                    _events.Enqueue(new ServerEvent(ServerEventKind.Closed, remote, local, _clock.NowMilliseconds, 0, "the client closed (EOF)"));
                    return;
                }
                _events.Enqueue(new ServerEvent(ServerEventKind.Received, remote, local, _clock.NowMilliseconds, received, Encoding.UTF8.GetString(buffer, 0, Math.Min(received, 64))));
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
                if (_spec.Reply is { } reply)
                {
                    await socket.SendAsync(Encoding.UTF8.GetBytes(reply), SocketFlags.None, token);
                    _events.Enqueue(new ServerEvent(ServerEventKind.Replied, remote, local, _clock.NowMilliseconds, reply.Length, reply));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException e)
        {
            _events.Enqueue(new ServerEvent(e.SocketErrorCode == SocketError.ConnectionReset ? ServerEventKind.Reset : ServerEventKind.Error, remote, local,
                _clock.NowMilliseconds, 0, Errno.Name(e.SocketErrorCode)));
        }
        finally
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (var socket in _accepted)
            socket.Dispose();
        Task[] loops;
        lock (_loops)
            loops = _loops.ToArray();
        await Task.WhenAny(Task.WhenAll(loops), Task.Delay(TimeSpan.FromSeconds(5)));
        _stop.Dispose();
    }
}
