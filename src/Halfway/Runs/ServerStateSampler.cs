using Halfway.Analysis;
using Halfway.Lab;
using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Runs;

/// <summary>
/// Samples the server host's socket table (sock_diag, filtered to the scenario's port) every 50 ms, and every 20 ms
/// while the listener is busy (request sockets in SYN-RECV, or anything changed since the last sample):
/// the listener's accept queue, and each connection's server-side state — a SYN-RECV request socket, an ESTABLISHED
/// child, or nothing. Only changes are recorded.
/// </summary>
internal sealed class ServerStateSampler : IDisposable
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
    private readonly LabClock _clock;
    private readonly ScenarioRun _run;
    private readonly Dictionary<(IpEndpoint, IpEndpoint), (string State, int Retransmits)> _last = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly object _gate = new();

    private ServerStateSampler(SocketTable table, int port, LabClock clock, ScenarioRun run)
    {
        _table = table;
        _port = (ushort)port;
        _clock = clock;
        _run = run;
        run.ServerTableObserved = true;
        _ = Sample();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Null (and a warning in the run) when the socket table cannot be read.</summary>
    public static ServerStateSampler? TryStart(LabHost server, int port, LabClock clock, ScenarioRun run)
    {
        try
        {
            var table = server.Run(() => new SocketTable());
            return new ServerStateSampler(table, port, clock, run);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            run.Warnings.Add($"the server's socket table could not be read ({e.Message}): fates rest on packets and socket calls only");
            return null;
        }
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
            long nowUs = _clock.NowMicroseconds;
            double now = nowUs / 1000.0;
            var records = _table.Read(States, [_port]);
            _run.ServerTableSampleTimes.Add(nowUs);
            var seen = new HashSet<(IpEndpoint, IpEndpoint)>();
            int synRecv = 0;
            bool changed = false;
            SocketRecord? listener = null;
            foreach (var record in records)
            {
                if (record.State == TcpState.Listen)
                {
                    if (record.Local.Port == _port)
                        listener = record;
                    continue;
                }
                if (record.Local.Port != _port)
                    continue;
                var key = (record.Remote, record.Local);
                string state = StateName(record.State);
                if (state == "SYN-RECV")
                    synRecv++;
                seen.Add(key);
                if (!_last.TryGetValue(key, out var previous) || previous.State != state || previous.Retransmits != record.Retransmits)
                {
                    _last[key] = (state, record.Retransmits);
                    _run.ServerSockets.Add(new ServerSocketObservation(nowUs, record.Remote, record.Local, state, record.Retransmits));
                    changed = true;
                }
            }
            foreach (var key in _last.Keys.Where(k => !seen.Contains(k) && _last[k].State != "none").ToList())
            {
                _last[key] = ("none", 0);
                _run.ServerSockets.Add(new ServerSocketObservation(nowUs, key.Item1, key.Item2, "none", 0));
                changed = true;
            }
            if (listener is { } l)
                _run.AcceptQueueSamples.Add(new AcceptQueueSample(now, l.ReceiveQueue, l.SendQueue, synRecv, l.Drops));
            _run.ServerTableSamplingTime += Halfway.Native.Libc.ThreadCpuTime() - cpuBefore;
            return changed || synRecv > 0;
        }
    }

    public static string StateName(TcpState state) => state switch
    {
        TcpState.SynRecv or TcpState.NewSynRecv => "SYN-RECV",
        TcpState.Established => "ESTABLISHED",
        TcpState.FinWait1 => "FIN-WAIT-1",
        TcpState.FinWait2 => "FIN-WAIT-2",
        TcpState.CloseWait => "CLOSE-WAIT",
        TcpState.LastAck => "LAST-ACK",
        TcpState.Closing => "CLOSING",
        TcpState.TimeWait => "TIME-WAIT",
        _ => state.ToString().ToUpperInvariant(),
    };

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
