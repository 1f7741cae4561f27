using System.Net;
using System.Net.Sockets;
using System.Text;
using Halfway.Lab;
using Halfway.Native;
using Halfway.Scenarios;
using Halfway.Wire;

namespace Halfway.Traffic;

/// <summary>
/// The scenario's clients: N connections to one listener, started all at once or at a rate, each
/// run through the scenario's steps. Sockets are created on the client host's thread (so they live
/// in its namespace); the calls then run asynchronously on the thread pool.
/// </summary>
public sealed class TrafficClient
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
        var sockets = host.Run(() => _connections.Select(_ => CreateSocket()).ToArray());
        using var deadlines = new StepDeadlines(_clock, runBound);
        _startedAtMs = _clock.NowMilliseconds;
        // Each connection runs synchronously up to its first pending call, so a burst's connects leave in one tight loop.
        var tasks = new Task[_connections.Length];
        for (int i = 0; i < _connections.Length; i++)
            tasks[i] = RunConnectionAsync(_connections[i], sockets[i], deadlines, runBound);
        try
        {
            await Task.WhenAll(tasks);
        }
        finally
        {
            // A connection without a close step stays open until the run ends, as the seed's client held it.
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }

    private Socket CreateSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var options = _spec.Options;
        if (options.UserTimeout is { } userTimeout)
            socket.SetRawSocketOption(SocketOptionNumbers.IPPROTO_TCP, SocketOptionNumbers.TCP_USER_TIMEOUT, BitConverter.GetBytes((int)userTimeout.TotalMilliseconds));
        if (options.KeepAlive)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)Math.Max(1, options.KeepAliveIdle!.Value.TotalSeconds));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)Math.Max(1, options.KeepAliveInterval!.Value.TotalSeconds));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.KeepAliveCount!.Value);
        }
        if (options.NoDelay is { } noDelay)
            socket.NoDelay = noDelay;
        if (options.LingerSeconds is { } linger)
            socket.LingerState = new LingerOption(true, linger);
        return socket;
    }

    private async Task RunConnectionAsync(ClientConnection connection, Socket socket, StepDeadlines deadlines, CancellationToken runBound)
    {
        Random? random = null;
        byte[]? buffer = null;
        try
        {
            if (_spec.Rate is { } rate)
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, _startedAtMs + connection.Id * 1000.0 / rate - _clock.NowMilliseconds)), runBound);
            for (int index = 0; index < _spec.Steps.Count; index++)
            {
                var step = _spec.Steps[index];
                double started = _clock.NowMilliseconds;
                if (step.Kind == StepKind.Wait)
                    random ??= new Random(HashCode.Combine(_spec.Seed, connection.Id));
                if (step.Kind == StepKind.Receive)
                    buffer ??= new byte[4096];
                var (result, errno, detail) = await RunStepAsync(step, connection, socket, random, buffer, started, deadlines, runBound);
                double ended = _clock.NowMilliseconds;
                TcpInfo? info = step.Kind == StepKind.Close ? null : TryReadInfo(socket);
                connection.Steps.Add(new StepResult(index, step.Name, result, errno, ended, ended - started, detail, info));
                if (step.Kind == StepKind.Connect && result == "ok")
                {
                    connection.ConnectedAtMs = ended;
                    if (connection.Local is null)
                        RecordLocal(connection, socket);
                }
                // A failed connect ends the connection; later calls would only repeat the failure.
                if ((step.Kind == StepKind.Connect && result != "ok") || result == "cancelled")
                    break;
            }
        }
        catch (OperationCanceledException)
        {
            // The run's bound fired before this connection started.
        }
        finally
        {
            connection.Finished = true;
        }
    }

    private async Task<(string Result, string? Errno, string? Detail)> RunStepAsync(
        Step step, ClientConnection connection, Socket socket, Random? random, byte[]? buffer, double started, StepDeadlines deadlines,
        CancellationToken runBound)
    {
        // Only a step with a timeout of its own needs a deadline; the others wait on the run's bound alone.
        var token = step.Timeout is { } timeout ? deadlines.TokenFor(timeout) : runBound;
        try
        {
            switch (step.Kind)
            {
                case StepKind.Connect:
                    connection.ConnectStartedAtMs = started;
                    var connecting = socket.ConnectAsync(_server, token);
                    // The kernel picked the local port when the SYN left; record it now so that a connect that
                    // fails can still be matched to its packets.
                    if (!connecting.IsCompleted)
                        RecordLocal(connection, socket);
                    await connecting;
                    return ("ok", null, null);
                case StepKind.Wait:
                {
                    var wait = step.WaitMin + (step.WaitMax - step.WaitMin) * random!.NextDouble();
                    await Task.Delay(wait, runBound);
                    return ("ok", null, $"waited {wait.TotalSeconds:0.###} s");
                }
                case StepKind.Send:
                {
                    int sent = await socket.SendAsync(Encoding.UTF8.GetBytes(step.Data), SocketFlags.None, token);
                    return ("ok", null, $"{sent} bytes");
                }
                case StepKind.Receive:
                {
                    int received = await socket.ReceiveAsync(buffer!, SocketFlags.None, token);
                    return received == 0
                        ? ("eof", null, "the server closed the connection")
                        : ("data", null, Encoding.UTF8.GetString(buffer!, 0, Math.Min(received, 64)));
                }
                case StepKind.Shutdown:
                    socket.Shutdown(step.How switch { "read" => SocketShutdown.Receive, "both" => SocketShutdown.Both, _ => SocketShutdown.Send });
                    return ("ok", null, null);
                case StepKind.Close:
                    socket.Close();
                    return ("ok", null, null);
                default:
                    throw new InvalidOperationException($"step {step.Kind} has no runner");
            }
        }
        catch (OperationCanceledException) when (runBound.IsCancellationRequested)
        {
            return ("cancelled", null, "the run's duration bound was reached");
        }
        catch (OperationCanceledException)
        {
            return ("timeout", null, $"no result within {Durations.Format(step.Timeout ?? TimeSpan.Zero)} (the step's timeout)");
        }
        catch (SocketException e)
        {
            string errno = Errno.Name(e.SocketErrorCode);
            string result = e.SocketErrorCode switch
            {
                SocketError.ConnectionReset => "reset",
                SocketError.ConnectionRefused => "refused",
                SocketError.TimedOut => "timeout",
                _ => "error",
            };
            return (result, errno, e.Message);
        }
    }

    private static void RecordLocal(ClientConnection connection, Socket socket)
    {
        if (SocketNames.Local(socket) is { } local)
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
