using System.Diagnostics;
using Halfway.Wire;

namespace Halfway.Observe.Watch;

/// <summary>
/// Takes samples of the listeners and counters of the calling thread's network namespace. Create it
/// and call it on a thread inside that namespace (the netlink socket and /proc/thread-self/net follow
/// the creating thread). Read-only: it dumps the socket table and reads /proc, nothing else.
/// </summary>
internal sealed class WatchSampler : IDisposable
{
    /// <summary>Without any hint, the established hash is still walked this often.</summary>
    public static readonly TimeSpan SynRecvScanAtLeastEvery = TimeSpan.FromSeconds(10);

    private static readonly TcpState[] ListenState = [TcpState.Listen];
    private static readonly TcpState[] SynRecvState = [TcpState.SynRecv];

    private readonly IReadOnlyList<WatchTarget> _targets;
    private readonly ushort[]? _ports;
    private readonly string _namespaceName;
    private readonly SocketTable _table = new();
    private readonly WatchAlerts _alerts = new();
    private Dictionary<string, long> _previousCounters = new(StringComparer.Ordinal);
    private Dictionary<IpEndpoint, long> _previousDrops = new();
    private long _previousTimestamp;
    private bool _requestsSeen = true;
    private long _lastScanTimestamp;

    public WatchSampler(IReadOnlyList<WatchTarget> targets, string namespaceName)
    {
        _targets = targets;
        _ports = targets.Count == 0 ? null : targets.Select(t => t.Port).Distinct().ToArray();
        _namespaceName = namespaceName;
        TakeBaseline();
    }

    /// <summary>Reads counters and listener drops so that the first sample's deltas cover one interval.</summary>
    public void TakeBaseline()
    {
        _previousCounters = KernelCounters.ReadCurrentNamespaceNetstat();
        _previousDrops = ReadListeners().Values.ToDictionary(l => l.Address, l => l.Drops);
        _previousTimestamp = Stopwatch.GetTimestamp();
    }

    public WatchSample Sample()
    {
        long started = Stopwatch.GetTimestamp();
        var groups = ReadListeners();
        var counters = KernelCounters.ReadCurrentNamespaceNetstat();
        foreach (var address in groups.Keys.ToList())
        {
            var listener = groups[address];
            groups[address] = listener with { DropsDelta = _previousDrops.TryGetValue(address, out long dropsBefore) ? listener.Drops - dropsBefore : 0 };
        }
        bool scan = ShouldScanRequests(groups.Values, counters, started);
        if (scan)
        {
            CountRequests(groups);
            _requestsSeen = groups.Values.Any(l => l.SynRecv > 0);
            _lastScanTimestamp = started;
        }
        long finished = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(_previousTimestamp, started);
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-6);

        var withDeltas = groups.Values
            .OrderBy(l => l.Address.Port)
            .ThenBy(l => l.Address.IsV6)
            .ThenBy(l => l.Address.Address)
            .ToList();
        var counterSamples = new List<CounterSample>();
        var missing = new List<string>();
        foreach (var name in CounterCatalogue.Watched.Select(c => c.Name))
        {
            if (!counters.TryGetValue(name, out long value))
            {
                missing.Add(name);
                continue;
            }
            long delta = _previousCounters.TryGetValue(name, out long before) ? value - before : 0;
            counterSamples.Add(new CounterSample(name, value, delta, delta / seconds));
        }
        var notListening = _targets
            .Where(t => !withDeltas.Any(l => t.Matches(l.Address)))
            .Select(t => t.ToString())
            .ToList();
        var listening = withDeltas.Select(l => l.Address).ToHashSet();
        var routes = _targets
            .Select(t => (Target: t.ToString(), Listener: t.RoutesTo(listening)))
            .Where(r => r.Listener is not null)
            .Select(r => (r.Target, r.Listener!.Value.ToString()))
            .ToList();

        _previousCounters = counters;
        _previousDrops = withDeltas.ToDictionary(l => l.Address, l => l.Drops);
        _previousTimestamp = started;

        var sample = new WatchSample(DateTimeOffset.UtcNow, elapsed, _namespaceName, withDeltas, counterSamples,
            notListening, missing, [], Stopwatch.GetElapsedTime(started, finished)) { SynRecvScanned = scan };
        var alerts = _alerts.Evaluate(sample);
        return sample with { Alerts = alerts, ActiveAlerts = _alerts.Current, Routes = routes };
    }

    /// <summary>
    /// Whether to walk the established hash for request sockets this time. The kernel walks all of it
    /// for any state but LISTEN (it is shared by every connection, and by every namespace unless
    /// tcp_child_ehash_entries is set), so on a host with many connections that walk is most of a
    /// sample's cost. A request socket that outlives a round trip leaves traces: its SYN-ACK is re-sent
    /// (TCPSynRetrans), or a listener drops or defers ACKs. So: walk when one of those counters rose,
    /// when a watched listener is full or dropped, while requests were seen last time, and at least
    /// every <see cref="SynRecvScanAtLeastEvery"/>. A skipped walk misses only handshakes younger than
    /// their first SYN-ACK retransmission (1 s) that nothing else marks.
    /// </summary>
    private bool ShouldScanRequests(IEnumerable<ListenerSample> listeners, Dictionary<string, long> counters, long now)
    {
        if (_requestsSeen || Stopwatch.GetElapsedTime(_lastScanTimestamp, now) >= SynRecvScanAtLeastEvery)
            return true;
        if (listeners.Any(l => l.AcceptQueueFull || l.DropsDelta > 0))
            return true;
        foreach (var name in CounterCatalogue.RequestHints.Select(c => c.Name))
        {
            if (counters.GetValueOrDefault(name) != _previousCounters.GetValueOrDefault(name))
                return true;
        }
        return false;
    }

    /// <summary>The watched listeners, grouped by local address. LISTEN sockets come from the kernel's small listening hash: cheap at any connection count.</summary>
    private Dictionary<IpEndpoint, ListenerSample> ReadListeners()
    {
        var records = _table.Read(ListenState, _ports);
        var listening = records.Select(r => r.Local).ToHashSet();
        return ListenerTable.Group(records, local => IsWatched(local, listening));
    }

    /// <summary>
    /// Counts request sockets (SYN-RECV) per listener. Only for the families a watched listener can
    /// receive (an IPv6 wildcard may be dual-stack and take IPv4) and only for the listeners' ports.
    /// </summary>
    private void CountRequests(Dictionary<IpEndpoint, ListenerSample> groups)
    {
        bool ipv6 = groups.Keys.Any(k => k.IsV6);
        bool ipv4 = groups.Keys.Any(k => !k.IsV6 || k.Address == 0);
        if (!ipv4 && !ipv6)
            return;
        var ports = groups.Keys.Select(k => k.Port).Distinct().ToArray();
        ListenerTable.CountRequests(groups, _table.Read(SynRecvState, ports, ipv4, ipv6));
    }

    /// <summary>A listener is watched when a target names it, or when it is the one the kernel would route a target's connections to.</summary>
    private bool IsWatched(IpEndpoint local, IReadOnlySet<IpEndpoint> listening) =>
        _targets.Count == 0 || _targets.Any(t => t.Address is null ? t.Matches(local) : t.RoutesTo(listening) == local);

    public void Dispose() => _table.Dispose();
}
