namespace Halfway.Observe;

/// <summary>
/// The kernel counters the tool knows, each named and explained once, and the lists that choose among
/// them: watch's columns, the hints that make watch walk for request sockets, and the run report's
/// headline counters. Explanations name counters by nstat name too.
/// </summary>
internal static class CounterCatalogue
{
    private const string TcpExt = "TcpExt";

    // Field initializers run in text order: the entries come before the lists that use them.
    public static readonly KernelCounter ListenOverflows = new("TcpExtListenOverflows", "SYNs or final ACKs met a full accept queue", WatchAlert: true);
    public static readonly KernelCounter ListenDrops = new("TcpExtListenDrops", "packets a listener dropped, overflows included");
    public static readonly KernelCounter ReqQFullDrop = new("TcpExtTCPReqQFullDrop", "a request queue was full with syncookies off: SYNs dropped", WatchAlert: true);
    public static readonly KernelCounter ReqQFullDoCookies = new("TcpExtTCPReqQFullDoCookies", "a request queue was full: SYNs answered with syncookies instead of request sockets");
    public static readonly KernelCounter SyncookiesSent = new("TcpExtSyncookiesSent", "a request queue was full: SYNs answered with syncookies (the server keeps no state for those connections)", WatchAlert: true);
    public static readonly KernelCounter SyncookiesRecv = new("TcpExtSyncookiesRecv", "ACKs carried a valid syncookie: connections completed without a request socket");
    public static readonly KernelCounter SyncookiesFailed = new("TcpExtSyncookiesFailed", "ACKs carried an invalid or expired syncookie", WatchAlert: true);
    public static readonly KernelCounter EmbryonicRsts = new("TcpExtEmbryonicRsts", "resets to or from request sockets (tcp_abort_on_overflow=1, or clients resetting)", WatchAlert: true);
    public static readonly KernelCounter DeferAcceptDrop = new("TcpExtTCPDeferAcceptDrop", "bare final ACKs dropped by TCP_DEFER_ACCEPT on purpose (not an overflow)", WatchAlert: true);
    public static readonly KernelCounter SynRetrans = new("TcpExtTCPSynRetrans", "SYNs and SYN-ACKs re-sent");
    public static readonly KernelCounter OutRsts = new("TcpOutRsts", "segments sent with RST");
    public static readonly KernelCounter Timeouts = new("TcpExtTCPTimeouts", "retransmission timers that fired");
    public static readonly KernelCounter RetransSegs = new("TcpRetransSegs", "segments retransmitted");
    public static readonly KernelCounter AbortOnData = new("TcpExtTCPAbortOnData", "connections reset because data arrived after the application closed");
    public static readonly KernelCounter AbortOnTimeout = new("TcpExtTCPAbortOnTimeout", "connections dropped after too many retransmissions");

    /// <summary>Watch's counters, all from TcpExt (/proc/net/netstat), in display order.</summary>
    public static readonly IReadOnlyList<KernelCounter> Watched =
    [
        ListenOverflows, ListenDrops, ReqQFullDrop, ReqQFullDoCookies, SyncookiesSent, SyncookiesRecv,
        SyncookiesFailed, EmbryonicRsts, DeferAcceptDrop,
    ];

    /// <summary>
    /// Counters that rise when request sockets may be lingering: a drop at a listener, a full request
    /// queue, a deferred ACK, or a SYN-ACK re-sent (TCPSynRetrans counts SYN and SYN-ACK retransmissions).
    /// </summary>
    public static readonly IReadOnlyList<KernelCounter> RequestHints =
    [
        ListenOverflows, ListenDrops, ReqQFullDrop, ReqQFullDoCookies, SyncookiesSent, DeferAcceptDrop, SynRetrans,
    ];

    /// <summary>The run report's counters (console table and counters over time), in this order.</summary>
    public static readonly IReadOnlyList<KernelCounter> Headline =
    [
        ListenOverflows, ListenDrops, SyncookiesSent, SyncookiesRecv, SyncookiesFailed, ReqQFullDrop, ReqQFullDoCookies,
        EmbryonicRsts, OutRsts, SynRetrans, Timeouts, RetransSegs, AbortOnData, AbortOnTimeout, DeferAcceptDrop,
    ];

    private static readonly Dictionary<string, KernelCounter> ByName =
        Watched.Concat(RequestHints).Concat(Headline).DistinctBy(c => c.Name).ToDictionary(c => c.Name, StringComparer.Ordinal);

    private static readonly HashSet<string> HeadlineNames = Headline.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every counter above, once each.</summary>
    public static IReadOnlyCollection<KernelCounter> All => ByName.Values;

    public static KernelCounter? Find(string name) => ByName.GetValueOrDefault(name);

    public static bool IsHeadline(string name) => HeadlineNames.Contains(name);

    /// <summary>
    /// The name as /proc/net/netstat spells it under its TcpExt header (ListenOverflows). Other groups keep
    /// their prefix (TcpOutRsts): Tcp's OutRsts alone would not say which table it came from.
    /// </summary>
    public static string ShortName(string name) =>
        name.StartsWith(TcpExt, StringComparison.Ordinal) ? name[TcpExt.Length..] : name;
}
