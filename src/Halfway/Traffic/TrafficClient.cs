using System.Net;
using System.Net.Sockets;
using System.Text;
using Halfway.Lab;
using Halfway.Native;
using Halfway.Scenarios;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Traffic;

/// <summary>
/// The scenario's clients: N connections to one listener, started all at once or at a rate, each
/// run through the scenario's steps. Sockets are created on the client host's thread (so they live
/// in its namespace); connects are completed by a <see cref="ConnectPoller"/>, and the later calls
/// run asynchronously on the thread pool.
/// </summary>
internal sealed class TrafficClient
{
    private readonly ClientSpec _spec;
    private readonly LabClock _clock;
    private readonly IPEndPoint _server;
    private readonly ClientConnection[] _connections;
    private double _startedAtMs;

    public TrafficClient(ClientSpec spec, LabClock clock, IPEndPoint server)
    {
        _spec = spec;
        _clock = clock;
        _server = server;
        _connections = Enumerable.Range(0, spec.Count).Select(i => new ClientConnection(i, IpEndpoint.From(server))).ToArray();
    }

    public IReadOnlyList<ClientConnection> Connections => _connections;

    public int Connected => _connections.Count(c => c.ConnectedAtMs is not null);

    public int Finished => _connections.Count(c => c.Finished);

    /// <summary>Runs every connection to its last step, or until <paramref name="runBound"/> fires.</summary>
    public async Task RunAsync(LabHost host, CancellationToken runBound)
    {
        if (_spec.Steps.Count == 0 || _spec.Steps[0].Kind != ClientStep.Connect)
            throw new ArgumentException("a client's first step must be connect", nameof(runBound));
        var fds = host.Run(CreateSockets);
        var sockets = new Socket?[fds.Length];
        var address = SocketAddressOf(_server);
        using var deadlines = new StepDeadlines(_clock, runBound);
        var allFinished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int unfinished = _connections.Length;
        Exception? unexpected = null;
        void Finish(ClientConnection connection)
        {
            connection.Finished = true;
            if (Interlocked.Decrement(ref unfinished) == 0)
                allFinished.TrySetResult();
        }

        void OnConnectDone(int id, ConnectPoller.Outcome outcome)
        {
            var connection = _connections[id];
            var step = _spec.Steps[0];
            bool closes = !outcome.Ok && outcome.Result != CallResult.Cancelled;
            var info = TcpInfo.Read(fds[id]);
            // A failed connect ends the connection; later calls would only repeat the failure. A real client closes the
            // socket then: left open, a timed-out connect's socket stays in SYN-SENT and the kernel goes on re-sending its
            // SYN, so a client that "gave up" would still get connected. (The poller has let go of the descriptor.) The
            // step ends once the socket is closed: until then the kernel may still answer for it.
            if (closes)
                CloseNow(id);
            double ended = _clock.NowMilliseconds;
            connection.Steps.Add(new StepResult(0, step.Kind, outcome.Result, outcome.Errno, ended, ended - connection.ConnectStartedAtMs!.Value,
                closes ? $"{outcome.Detail}; the client closed the socket" : outcome.Detail, info));
            if (outcome.Ok)
            {
                connection.ConnectedAtMs = ended;
                if (connection.Local is null)
                    RecordLocal(connection, fds[id]);
            }
            if (!outcome.Ok)
            {
                Finish(connection);
                return;
            }
            if (_spec.Steps.Count == 1)
            {
                Finish(connection);
                return;
            }
            ThreadPool.UnsafeQueueUserWorkItem(_ => _ = ContinueAsync(id), null);
        }

        void CloseNow(int id)
        {
            int fd = Interlocked.Exchange(ref fds[id], -1);
            if (fd >= 0)
                Libc.close(fd);
        }

        async Task ContinueAsync(int id)
        {
            var connection = _connections[id];
            try
            {
                // The later steps use .NET's socket calls, on a socket that now owns the descriptor.
                var handle = new SafeSocketHandle(fds[id], ownsHandle: true);
                try
                {
                    sockets[id] = new Socket(handle);
                }
                catch (SocketException e)
                {
                    handle.SetHandleAsInvalid();
                    connection.Steps.Add(new StepResult(1, _spec.Steps[1].Kind, CallResult.Error, Errno.Name(e.SocketErrorCode), _clock.NowMilliseconds, 0, e.Message, null));
                    return;
                }
                await RunStepsAsync(connection, sockets[id]!, 1, deadlines, runBound);
            }
            catch (Exception e)
            {
                // Not a result of the kernel's (those are step results): a defect, reported when the run ends.
                Interlocked.CompareExchange(ref unexpected, e, null);
            }
            finally
            {
                Finish(connection);
            }
        }

        var poller = new ConnectPoller(fds, _clock, runBound, OnConnectDone);
        try
        {
            _startedAtMs = _clock.NowMilliseconds;
            if (_connections.Length == 0)
                return;
            for (int i = 0; i < _connections.Length; i++)
            {
                if (_spec.Rate is { } rate)
                    _ = StartLaterAsync(i, _startedAtMs + i * 1000.0 / rate);
                else
                    StartConnect(i);
            }
            await allFinished.Task;
            if (unexpected is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(unexpected);
        }
        finally
        {
            // Stop harvesting before closing; a connection without a close step stays open until the run ends, as the seed's client held it.
            poller.Dispose();
            for (int i = 0; i < fds.Length; i++)
            {
                if (sockets[i] is { } socket)
                    socket.Dispose();
                else if (fds[i] >= 0)
                    Libc.close(fds[i]);
            }
        }

        void StartConnect(int id)
        {
            var connection = _connections[id];
            connection.ConnectStartedAtMs = _clock.NowMilliseconds;
            // The kernel picks the local port when the SYN leaves: record it while the connect is pending, so that a
            // connect that fails can still be matched to its packets.
            if (poller.Start(id, address, _spec.Steps[0].Timeout, pending => RecordLocal(_connections[pending], fds[pending])) is { } outcome)
                OnConnectDone(id, outcome);
        }

        async Task StartLaterAsync(int id, double atMs)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, atMs - _clock.NowMilliseconds)), runBound);
            }
            catch (OperationCanceledException)
            {
                // The run's bound fired before this connection started.
                Finish(_connections[id]);
                return;
            }
            StartConnect(id);
        }
    }

    /// <summary>Non-blocking TCP sockets with the scenario's options, created on the client host's thread (its namespace).</summary>
    private int[] CreateSockets()
    {
        var fds = new int[_connections.Length];
        int created = 0;
        try
        {
            for (; created < fds.Length; created++)
                fds[created] = CreateSocket();
            return fds;
        }
        catch
        {
            for (int i = 0; i < created; i++)
                Libc.close(fds[i]);
            throw;
        }
    }

    private unsafe int CreateSocket()
    {
        int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw new HalfwayException($"cannot create client socket: {Libc.Describe(Libc.LastError)}");
        try
        {
            var options = _spec.Options;
            if (options.UserTimeout is { } userTimeout)
                Set(fd, SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_USER_TIMEOUT, (int)userTimeout.TotalMilliseconds, "TCP_USER_TIMEOUT");
            if (options.KeepAlive)
            {
                Set(fd, SocketOptionNumbers.SOL_SOCKET, SocketOptionNumbers.SO_KEEPALIVE, 1, "SO_KEEPALIVE");
                Set(fd, SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_KEEPIDLE, (int)Math.Max(1, options.KeepAliveIdle!.Value.TotalSeconds), "TCP_KEEPIDLE");
                Set(fd, SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_KEEPINTVL, (int)Math.Max(1, options.KeepAliveInterval!.Value.TotalSeconds), "TCP_KEEPINTVL");
                Set(fd, SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_KEEPCNT, options.KeepAliveCount!.Value, "TCP_KEEPCNT");
            }
            if (options.NoDelay is { } noDelay)
                Set(fd, SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_NODELAY, noDelay ? 1 : 0, "TCP_NODELAY");
            if (options.LingerSeconds is { } linger)
            {
                var value = new Libc.Linger { OnOff = 1, Seconds = linger };
                if (Libc.setsockopt(fd, SocketOptionNumbers.SOL_SOCKET, SocketOptionNumbers.SO_LINGER, &value, sizeof(Libc.Linger)) != 0)
                    throw new HalfwayException($"cannot set SO_LINGER on a client socket: {Libc.Describe(Libc.LastError)}");
            }
            return fd;
        }
        catch
        {
            Libc.close(fd);
            throw;
        }

        static void Set(int fd, int level, int name, int value, string what)
        {
            if (Libc.SetSocketOption(fd, level, name, value) != 0)
                throw new HalfwayException($"cannot set {what}={value} on a client socket: {Libc.Describe(Libc.LastError)}");
        }
    }

    private static byte[] SocketAddressOf(IPEndPoint server)
    {
        if (server.AddressFamily != AddressFamily.InterNetwork)
            throw new HalfwayException($"the client connects over IPv4 only; {server} is not an IPv4 address");
        var address = new byte[16];
        address[0] = Libc.AF_INET; // sa_family, little-endian
        address[2] = (byte)(server.Port >> 8);
        address[3] = (byte)server.Port;
        server.Address.TryWriteBytes(address.AsSpan(4, 4), out _);
        return address;
    }

    private async Task RunStepsAsync(ClientConnection connection, Socket socket, int from, StepDeadlines deadlines, CancellationToken runBound)
    {
        Random? random = null;
        byte[]? buffer = null;
        for (int index = from; index < _spec.Steps.Count; index++)
        {
            var step = _spec.Steps[index];
            double started = _clock.NowMilliseconds;
            if (step.Kind == ClientStep.Wait)
                random ??= new Random(HashCode.Combine(_spec.Seed, connection.Id));
            if (step.Kind == ClientStep.Receive)
                buffer ??= new byte[4096];
            var (result, errno, detail) = await RunStepAsync(step, socket, random, buffer, deadlines, runBound);
            double ended = _clock.NowMilliseconds;
            TcpInfo? info = step.Kind == ClientStep.Close ? null : TryReadInfo(socket);
            connection.Steps.Add(new StepResult(index, step.Kind, result, errno, ended, ended - started, detail, info));
            if (result == CallResult.Cancelled)
                break;
        }
    }

    private static async Task<(CallResult Result, string? Errno, string? Detail)> RunStepAsync(
        Step step, Socket socket, Random? random, byte[]? buffer, StepDeadlines deadlines, CancellationToken runBound)
    {
        // Only a step with a timeout of its own needs a deadline; the others wait on the run's bound alone.
        var token = step.Timeout is { } timeout ? deadlines.TokenFor(timeout) : runBound;
        try
        {
            switch (step.Kind)
            {
                case ClientStep.Wait:
                {
                    var wait = step.WaitMin + (step.WaitMax - step.WaitMin) * random!.NextDouble();
                    await Task.Delay(wait, runBound);
                    return (CallResult.Ok, null, $"waited {wait.TotalSeconds:0.###} s");
                }
                case ClientStep.Send:
                {
                    int sent = await socket.SendAsync(Encoding.UTF8.GetBytes(step.Data), SocketFlags.None, token);
                    return (CallResult.Ok, null, $"{sent} bytes");
                }
                case ClientStep.Receive:
                {
                    int received = await socket.ReceiveAsync(buffer!, SocketFlags.None, token);
                    return received == 0
                        ? (CallResult.Eof, null, "the server closed the connection")
                        : (CallResult.Data, null, Encoding.UTF8.GetString(buffer!, 0, Math.Min(received, 64)));
                }
                case ClientStep.Shutdown:
                    socket.Shutdown(step.How switch { "read" => SocketShutdown.Receive, "both" => SocketShutdown.Both, _ => SocketShutdown.Send });
                    return (CallResult.Ok, null, null);
                case ClientStep.Close:
                    socket.Close();
                    return (CallResult.Ok, null, null);
                default:
                    throw new InvalidOperationException($"step {step.Kind} has no runner after connect");
            }
        }
        catch (OperationCanceledException) when (runBound.IsCancellationRequested)
        {
            return (CallResult.Cancelled, null, "the run's duration bound was reached");
        }
        catch (OperationCanceledException)
        {
            return (CallResult.Timeout, null, $"no result within {Durations.Format(step.Timeout ?? TimeSpan.Zero)} (the step's timeout)");
        }
        catch (SocketException e)
        {
            string errno = Errno.Name(e.SocketErrorCode);
            var result = e.SocketErrorCode switch
            {
                SocketError.ConnectionReset => CallResult.Reset,
                SocketError.ConnectionRefused => CallResult.Refused,
                SocketError.TimedOut => CallResult.Timeout,
                _ => CallResult.Error,
            };
            return (result, errno, e.Message);
        }
    }

    private static void RecordLocal(ClientConnection connection, int fd)
    {
        if (SocketNames.Local(fd) is { } local)
            connection.Local = local;
    }

    private static TcpInfo? TryReadInfo(Socket socket)
    {
        try
        {
            return TcpInfo.Read(socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
