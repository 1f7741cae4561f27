using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// Samples a server's socket table (sock_diag, filtered to one port) every 50 ms, and every 20 ms
/// while the listener is busy (request sockets in SYN-RECV, or anything changed since the last sample):
/// the listener's accept queue, and each connection's server-side state — a SYN-RECV request socket, an ESTABLISHED
/// child, or nothing. Only changes are recorded, into an <see cref="IServerTableSink"/>.
/// </summary>
internal sealed class ServerTableSampler : IDisposable
{
    public static readonly TimeSpan IdleInterval = TimeSpan.FromMilliseconds(50);
    /// <summary>
    /// A burst fills and drains an accept queue in tens of milliseconds: at 50 ms the samples missed whole bursts. A
    /// dump walks the kernel's whole (host-wide) socket hash: ~3-5 ms of CPU each on this machine, so 10 ms cost a quarter of a
    /// core during a storm; 20 ms is 2.5 times denser than idle for about half that.
    /// </summary>
    public static readonly TimeSpan BusyInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TcpState[] States =
    [
        TcpState.Listen, TcpState.SynRecv, TcpState.Established, TcpState.FinWait1, TcpState.FinWait2,
        TcpState.CloseWait, TcpState.LastAck, TcpState.Closing,
    ];

    private readonly SocketTable _table;
    private readonly ushort _port;
    private readonly Func<long> _nowMicroseconds;
    private readonly IServerTableSink _sink;
    private readonly Dictionary<(IpEndpoint, IpEndpoint), (TcpState? State, int Retransmits)> _last = new();
    private readonly HashSet<(IpEndpoint, IpEndpoint)> _owned = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly object _gate = new();

    /// <summary>
    /// Takes a first sample at once, then samples on a pool thread until <see cref="Stop"/>. <paramref name="table"/> must
    /// have been opened in the server's namespace; the sampler owns it from now on.
    /// </summary>
    public ServerTableSampler(SocketTable table, int port, Func<long> nowMicroseconds, IServerTableSink sink)
    {
        _table = table;
        _port = (ushort)port;
        _nowMicroseconds = nowMicroseconds;
        _sink = sink;
        _ = Sample();
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                bool busy = Sample();
                await Task.Delay(busy ? BusyInterval : IdleInterval, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Takes one sample; true when the listener looked busy (see the class summary).</summary>
    private bool Sample()
    {
        lock (_gate)
        {
            var cpuBefore = Halfway.Native.Libc.ThreadCpuTime();
            // Stamp the sample with the dump's start: whatever it shows existed at or after that moment, so a request
            // socket it lists cannot be mistaken for one that outlived a final ACK that arrived while the dump ran.
            long nowUs = _nowMicroseconds();
            double now = nowUs / 1000.0;
            var records = _table.Read(States, [_port]);
            var seen = new HashSet<(IpEndpoint, IpEndpoint)>();
            bool changed = false;
            foreach (var record in records)
            {
                if (record.State == TcpState.Listen || record.Local.Port != _port)
                    continue;
                var key = (record.Remote, record.Local);
                // sock_diag reports request sockets as SYN-RECV already; a NEW-SYN-RECV would be one too.
                TcpState state = record.State == TcpState.NewSynRecv ? TcpState.SynRecv : record.State;
                seen.Add(key);
                if (record.Inode != 0 && _owned.Add(key))
                    _sink.SocketOwned(nowUs, record.Remote, record.Local);
                if (!_last.TryGetValue(key, out var previous) || previous.State != state || previous.Retransmits != record.Retransmits)
                {
                    _last[key] = (state, record.Retransmits);
                    _sink.SocketChanged(nowUs, record.Remote, record.Local, state, record.Retransmits);
                    changed = true;
                }
            }
            foreach (var key in _last.Keys.Where(k => !seen.Contains(k) && _last[k].State is not null).ToList())
            {
                _last[key] = (null, 0);
                _sink.SocketChanged(nowUs, key.Item1, key.Item2, null, 0);
                changed = true;
            }
            var listeners = ListenerTable.Group(records, local => local.Port == _port);
            ListenerTable.CountRequests(listeners, records.Where(r => r.Local.Port == _port));
            int synRecv = 0;
            foreach (var l in listeners.Values)
            {
                _sink.ListenerSampled(now, (uint)l.AcceptQueue, (uint)l.AcceptQueueLimit, l.SynRecv, (uint)l.Drops);
                synRecv += l.SynRecv;
            }
            _sink.Sampled(nowUs, Halfway.Native.Libc.ThreadCpuTime() - cpuBefore);
            return changed || synRecv > 0;
        }
    }

    /// <summary>Takes a last sample and stops.</summary>
    public void Stop()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _ = Sample();
    }

    public void Dispose()
    {
        Stop();
        _table.Dispose();
        _stop.Dispose();
    }
}
