using System.Diagnostics;
using Halfway.Wire;

namespace Halfway.Observe.Watch;

/// <summary>
/// Takes samples of the listeners and counters of the calling thread's network namespace. Create it
/// and call it on a thread inside that namespace (the netlink socket and /proc/thread-self/net follow
/// the creating thread). Read-only: it dumps the socket table and reads /proc, nothing else.
/// </summary>
public sealed class WatchSampler : IDisposable
{
    /// <summary>The namespace counters watch reports, all from TcpExt (/proc/net/netstat), in display order.</summary>
    public static readonly IReadOnlyList<string> CounterNames =
    [
        "TcpExtListenOverflows",
        "TcpExtListenDrops",
        "TcpExtTCPReqQFullDrop",
        "TcpExtTCPReqQFullDoCookies",
        "TcpExtSyncookiesSent",
        "TcpExtSyncookiesRecv",
        "TcpExtSyncookiesFailed",
        "TcpExtEmbryonicRsts",
        "TcpExtTCPDeferAcceptDrop",
    ];

    private static readonly TcpState[] ListenerStates = [TcpState.Listen, TcpState.SynRecv];

    private readonly IReadOnlyList<WatchTarget> _targets;
    private readonly ushort[]? _ports;
    private readonly string _namespaceName;
    private readonly SocketTable _table = new();
    private readonly WatchAlerts _alerts = new();
    private Dictionary<string, long> _previousCounters = new(StringComparer.Ordinal);
    private Dictionary<IpEndpoint, long> _previousDrops = new();
    private long _previousTimestamp;

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
        _previousDrops = ReadListeners().ToDictionary(l => l.Address, l => l.Drops);
        _previousTimestamp = Stopwatch.GetTimestamp();
    }

    public WatchSample Sample()
    {
        long started = Stopwatch.GetTimestamp();
        var listeners = ReadListeners();
        var counters = KernelCounters.ReadCurrentNamespaceNetstat();
        long finished = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(_previousTimestamp, started);
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-6);

        var withDeltas = listeners
            .Select(l => l with { DropsDelta = _previousDrops.TryGetValue(l.Address, out long before) ? l.Drops - before : 0 })
            .ToList();
        var counterSamples = new List<CounterSample>();
        var missing = new List<string>();
        foreach (var name in CounterNames)
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

        _previousCounters = counters;
        _previousDrops = withDeltas.ToDictionary(l => l.Address, l => l.Drops);
        _previousTimestamp = started;

        var sample = new WatchSample(DateTimeOffset.UtcNow, elapsed, _namespaceName, withDeltas, counterSamples,
            notListening, missing, [], Stopwatch.GetElapsedTime(started, finished));
        return sample with { Alerts = _alerts.Evaluate(sample) };
    }

    /// <summary>The watched listeners, with their request sockets counted, grouped by local address.</summary>
    private List<ListenerSample> ReadListeners()
    {
        var records = _table.Read(ListenerStates, _ports);
        var groups = new Dictionary<IpEndpoint, ListenerSample>();
        foreach (var record in records)
        {
            if (record.State != TcpState.Listen || !IsWatched(record.Local))
                continue;
            groups[record.Local] = groups.TryGetValue(record.Local, out var group)
                ? group with
                {
                    Sockets = group.Sockets + 1,
                    AcceptQueue = group.AcceptQueue + record.ReceiveQueue,
                    AcceptQueueLimit = group.AcceptQueueLimit + record.SendQueue,
                    Drops = group.Drops + record.Drops,
                }
                : new ListenerSample(record.Local, 1, record.ReceiveQueue, record.SendQueue, 0, 0, record.Drops, 0);
        }
        foreach (var record in records)
        {
            if (record.State != TcpState.SynRecv || OwnerOf(record.Local, groups) is not { } owner)
                continue;
            var group = groups[owner];
            groups[owner] = group with
            {
                SynRecv = group.SynRecv + 1,
                SynRecvResending = group.SynRecvResending + (record.Retransmits > 0 ? 1 : 0),
            };
        }
        return groups.Values
            .OrderBy(l => l.Address.Port)
            .ThenBy(l => l.Address.IsV6)
            .ThenBy(l => l.Address.Address)
            .ToList();
    }

    private bool IsWatched(IpEndpoint local) => _targets.Count == 0 || _targets.Any(t => t.Matches(local));

    /// <summary>
    /// The listener a request socket belongs to: a request carries the address the SYN was sent to,
    /// so prefer a listener bound to exactly that address, then the wildcard of its family, then the
    /// IPv6 wildcard (a dual-stack listener also takes IPv4 connections).
    /// </summary>
    internal static IpEndpoint? OwnerOf(IpEndpoint local, IReadOnlyDictionary<IpEndpoint, ListenerSample> listeners)
    {
        if (listeners.ContainsKey(local))
            return local;
        var familyWildcard = local.IsV6 ? new IpEndpoint(0, local.Port, true) : IpEndpoint.FromV4([0, 0, 0, 0], local.Port);
        if (listeners.ContainsKey(familyWildcard))
            return familyWildcard;
        var dualStack = new IpEndpoint(0, local.Port, true);
        return !local.IsV6 && listeners.ContainsKey(dualStack) ? dualStack : null;
    }

    public void Dispose() => _table.Dispose();
}
