using System.Globalization;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// Collects the engine's finished connections for `halfway explain`: counts per listener, the connections worth showing
/// (every one that is not plainly accepted, bounded), and the handshake timings that tell where the capture was taken.
/// </summary>
internal sealed class ExplainReport(bool keepAll = false, int maxKept = 200_000, int maxGapSamples = ExplainReport.MaxGapSamples) : IConnectionSink
{
    private readonly Dictionary<IpEndpoint, ListenerSummary> _listeners = new();
    private readonly List<ConnectionReport> _kept = [];
    private List<ConnectionReport>? _keptInStartOrder;
    private readonly List<long> _serverGaps = []; // SYN -> SYN-ACK
    private readonly List<long> _clientGaps = []; // SYN-ACK -> client's ACK
    public const int MaxGapSamples = 20_000;
    private long _handshakesLeftOut; // completed handshakes whose SYN or SYN-ACK was re-sent: their gaps include a retransmission timer

    /// <summary>Completed handshakes whose timings tell where the capture was taken (one SYN, one SYN-ACK, the ACK), up to the sample bound.</summary>
    public int HandshakesUsed => _serverGaps.Count;
    /// <summary>Completed handshakes left out of that inference because the client re-sent its SYN or the server its SYN-ACK.</summary>
    public long HandshakesLeftOut => _handshakesLeftOut;

    private long _connections, _halfEstablished, _notKept;
    public long Connections { get { Settle(); return _connections; } }
    public long HalfEstablished { get { Settle(); return _halfEstablished; } }
    public long NotKept { get { Settle(); return _notKept; } }
    /// <summary>The connections kept for details, in the order they started (the engine finishes them in another order: a refused one long before an accepted one that started earlier).</summary>
    public IReadOnlyList<ConnectionReport> Kept { get { Settle(); return _keptInStartOrder ??= InStartOrder(_kept); } }

    /// <summary>
    /// Sorted by start, those that started together in the order they were kept (a stable sort): the start times and
    /// positions are sorted, not the reports, whose start time each comparison would have read from memory.
    /// </summary>
    private static List<ConnectionReport> InStartOrder(List<ConnectionReport> reports)
    {
        var keys = new (long Start, int Index)[reports.Count];
        for (int i = 0; i < keys.Length; i++)
            keys[i] = (reports[i].FirstSeenAtMicroseconds, i);
        Array.Sort(keys);
        var sorted = new List<ConnectionReport>(keys.Length);
        foreach (var (_, index) in keys)
            sorted.Add(reports[index]);
        return sorted;
    }
    public IEnumerable<ListenerSummary> Listeners { get { Settle(); return _listeners.Values.OrderByDescending(l => l.HalfEstablished).ThenByDescending(l => l.Connections)
        .ThenBy(l => l.Server.AddressHigh).ThenBy(l => l.Server.AddressLow).ThenBy(l => l.Server.Port); } }

    /// <summary>Another connection to the same listener that connected this close in time, half-established, puts a candidate in its burst.</summary>
    public const long BurstWindowMicroseconds = 1_000_000;
    // Accepted connections whose first data was re-sent before the server acknowledged it: whether that was loss or a
    // full queue depends on the other connections to the listener, which may finish later. Only these wait.
    private readonly List<ConnectionReport> _candidates = [];
    // When each half-established connection connected, per listener: what a candidate is weighed against.
    private readonly Dictionary<IpEndpoint, List<long>> _halfEstablishedAt = new();

    /// <summary>
    /// Plainly accepted connections are only counted: the handshake timings of the first ones (which tell where the
    /// capture was taken) come with their summaries, so no report (evidence, reason, timeline) is built for them.
    /// Those whose first data was re-sent before the server acknowledged it are the exception: their neighbours may
    /// show them to be late completions.
    /// </summary>
    public bool WantsReport(in ConnectionSummary summary) =>
        keepAll || summary.Fate != Fate.Accepted || summary.HalfEstablished || summary.DataResendsBeforeServerAck > 0;

    public void Count(in ConnectionSummary summary)
    {
        _connections++;
        if (summary.HalfEstablished)
            _halfEstablished++;
        ListenerOf(summary.Server).Count(summary);
        if (_serverGaps.Count < maxGapSamples)
            SampleHandshake(summary.Handshake);
    }

    private volatile bool _countsCommute;

    /// <summary>Once the handshake samples are complete, a count only adds to sums.</summary>
    public bool CountsCommute => _countsCommute;

    /// <summary>Shards' tallies added (tests check that the split analysis used them).</summary>
    internal int TalliesAdded { get; private set; }

    public void AddTally(ConnectionTally tally)
    {
        TalliesAdded++;
        _connections += tally.Connections;
        _halfEstablished += tally.HalfEstablished;
        foreach (var listener in tally.Listeners)
            ListenerOf(listener.Server).Absorb(listener);
    }

    public void Add(ConnectionReport report)
    {
        if (_serverGaps.Count < maxGapSamples)
            SampleHandshake(HandshakeOf(report));
        if (IsCandidate(report) && _candidates.Count < maxKept)
        {
            _candidates.Add(report);
            return;
        }
        Include(report);
    }

    private static bool IsCandidate(ConnectionReport report) =>
        report.Fate == Fate.Accepted && !report.HalfEstablished && report.Facts.DataResendsBeforeServerAck > 0 && report.ConnectedAtMicroseconds is not null;

    /// <summary>
    /// The listener's summary, made on its first connection. The last one found is tried first: a capture's
    /// connections mostly go to one listener, and a lookup by endpoint (hashing its four fields) was a few ms of the
    /// thread that hands the sink 200,000 connections.
    /// </summary>
    private ListenerSummary ListenerOf(in IpEndpoint server)
    {
        if (_lastListener is { } last && last.Server == server)
            return last;
        if (!_listeners.TryGetValue(server, out var listener))
            _listeners[server] = listener = new ListenerSummary(server);
        return _lastListener = listener;
    }

    private ListenerSummary? _lastListener;

    private void Include(ConnectionReport report)
    {
        _connections++;
        if (report.HalfEstablished)
        {
            _halfEstablished++;
            if (!_halfEstablishedAt.TryGetValue(report.Server, out var times))
                _halfEstablishedAt[report.Server] = times = [];
            times.Add(report.ConnectedAtMicroseconds ?? report.FirstSeenAtMicroseconds);
        }
        ListenerOf(report.Server).Add(report);
        if (keepAll || report.Fate != Fate.Accepted || report.HalfEstablished)
        {
            if (_kept.Count < maxKept)
            {
                _kept.Add(report);
                _keptInStartOrder = null;
            }
            else
                _notKept++;
        }
    }

    /// <summary>
    /// The second look at the candidates, once every connection is in: a connection whose first data the client had to
    /// re-send, in a burst where other connections to the same listener were half-established, most likely met what
    /// they met (on a syncookie server the first data meets the full queue as their final ACKs did) and is revised to a
    /// late completion, <c>likely</c>, with the reason. Alone on its listener, or far in time from any half-established
    /// one, it stays accepted: one lost segment is ordinary loss. Only half-established verdicts of the classifier count
    /// as neighbours, so revisions do not feed each other.
    /// </summary>
    private void Settle()
    {
        if (_candidates.Count == 0)
            return;
        foreach (var times in _halfEstablishedAt.Values)
            times.Sort();
        var inv = CultureInfo.InvariantCulture;
        var candidates = _candidates.ToArray();
        _candidates.Clear();
        foreach (var candidate in candidates)
        {
            long connected = candidate.ConnectedAtMicroseconds!.Value;
            int neighbours = _halfEstablishedAt.TryGetValue(candidate.Server, out var times) ? CountWithin(times, connected - BurstWindowMicroseconds, connected + BurstWindowMicroseconds) : 0;
            if (neighbours > 0)
                candidate.ReviseToLikelyLateCompletion(string.Create(inv,
                    $"the client's first data was re-sent {candidate.Facts.DataResendsBeforeServerAck} time(s) before the server acknowledged it, while {neighbours:N0} other connection(s) to this listener that connected within {TimeText.Duration(BurstWindowMicroseconds)} of it were half-established: a syncookie server whose accept queue was full ignores first data as it ignored their final ACKs; one segment lost on the way looks the same"));
        }
        // Revised ones are not neighbours of later candidates: include them only after every candidate was weighed.
        foreach (var candidate in candidates)
            Include(candidate);
    }

    /// <summary>How many of the sorted <paramref name="times"/> lie in [from, to].</summary>
    private static int CountWithin(List<long> times, long from, long to)
    {
        int lo = times.BinarySearch(from);
        if (lo < 0) lo = ~lo;
        else while (lo > 0 && times[lo - 1] == from) lo--;
        int hi = times.BinarySearch(to);
        if (hi < 0) hi = ~hi;
        else while (hi < times.Count && times[hi] == to) hi++;
        return hi - lo;
    }

    private static HandshakeTimes HandshakeOf(ConnectionReport report) =>
        new(report.Facts.AnsweredSynAt ?? 0, report.Facts.SynAckAt ?? 0, report.Facts.HandshakeAckAt ?? 0, report.Facts.SynAckResendsBeforeAck, report.Facts.SynsBeforeSynAck);

    /// <summary>
    /// Keeps the gaps of a handshake that completed on its first SYN and first SYN-ACK. A re-sent SYN would put the
    /// client's retransmission timer (1 s, 3 s...) into SYN → SYN-ACK, and a SYN-ACK re-sent before the ACK the server's
    /// into SYN-ACK → ACK: those measure timers, not distance, and are left out (counted). Re-sends after the ACK do not
    /// touch the handshake's gaps.
    /// </summary>
    internal void SampleHandshake(in HandshakeTimes h)
    {
        if (h.SynAt == 0 || h.SynAckAt < h.SynAt || h.AckAt < h.SynAckAt || h.AckAt == 0)
            return;
        if (h.SynAckResendsBeforeAck != 0 || h.SynsBeforeSynAck != 1)
        {
            _handshakesLeftOut++;
            return;
        }
        _serverGaps.Add(h.SynAckAt - h.SynAt);
        _clientGaps.Add(h.AckAt - h.SynAckAt);
        if (_serverGaps.Count >= maxGapSamples)
            _countsCommute = true;
    }

    /// <summary>
    /// Where the capture was taken, from handshake timings: next to the server the SYN-ACK follows the SYN at once and the
    /// client's ACK comes a round trip later; next to the client it is the other way round.
    /// </summary>
    public string? VantagePoint()
    {
        if (_serverGaps.Count < 3)
            return _handshakesLeftOut == 0 ? null : string.Create(CultureInfo.InvariantCulture,
                $"undetermined: {_serverGaps.Count} handshake(s) completed on their first SYN and SYN-ACK, too few to tell; {_handshakesLeftOut:N0} with a re-sent SYN or SYN-ACK left out (their gaps measure retransmission timers, not distance)");
        long serverGap = Median(_serverGaps), clientGap = Median(_clientGaps);
        string leftOut = _handshakesLeftOut == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; {_handshakesLeftOut:N0} with a re-sent SYN or SYN-ACK left out");
        string timing = string.Create(CultureInfo.InvariantCulture, $"the SYN-ACK follows the SYN after {TimeText.Duration(serverGap)}, the client's ACK follows the SYN-ACK after {TimeText.Duration(clientGap)} (medians of the {_serverGaps.Count:N0} handshakes that completed on their first SYN and SYN-ACK{leftOut})");
        if (clientGap > 4 * serverGap && clientGap >= 200)
            return $"near the server: {timing}";
        if (serverGap > 4 * clientGap && serverGap >= 200)
            return $"near the client: {timing}";
        return $"undetermined: {timing}";
    }

    /// <summary>The value at index n/2 of the sorted values, found by selection: sorting all 20,000 samples took a few ms of every report.</summary>
    private static long Median(List<long> values)
    {
        var a = values.ToArray();
        int k = a.Length / 2, left = 0, right = a.Length - 1;
        while (left < right)
        {
            long pivot = a[left + (right - left) / 2];
            int i = left, j = right;
            while (i <= j)
            {
                while (a[i] < pivot)
                    i++;
                while (a[j] > pivot)
                    j--;
                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j)
                right = j;
            else if (k >= i)
                left = i;
            else
                return a[k];
        }
        return a[k];
    }

    /// <summary>
    /// The causes that fit one listener's connections, ranked by what this capture supports (shown, supported, cannot
    /// tell from here), each with its evidence and what would confirm it on the server. A cause is listed only when
    /// the capture holds something it would explain; none is called "most likely" without evidence that singles it out.
    /// </summary>
    public IReadOnlyList<LikelyCause> LikelyCauses(ListenerSummary listener)
    {
        var inv = CultureInfo.InvariantCulture;
        var causes = new List<LikelyCause>();
        long synDropped = listener.Count(Fate.SynDropped);
        long resetAtHandshake = listener.Count(Fate.ResetAtHandshake);
        if (listener.HalfEstablished == 0)
        {
            if (synDropped > 0)
                causes.Add(new("SYNs dropped by the server or on the way", CauseSupport.CannotTell,
                    string.Create(inv, $"{synDropped:N0} SYN(s) got no answer"),
                    "a full accept queue drops new SYNs (Linux ≥ 4.10): TcpExtListenOverflows and TcpExtListenDrops (`nstat -az`), `ss -ltn` (Recv-Q against Send-Q); a full request queue with syncookies off; the firewall's drop counters"));
            if (listener.Count(Fate.HandshakeIncomplete) > 0)
                causes.Add(new("Handshakes the client never finished (not half-established)", CauseSupport.Supported,
                    string.Create(inv, $"{listener.Count(Fate.HandshakeIncomplete):N0} SYN-ACK(s) were never acknowledged by the client"),
                    "port scans, a SYN flood (TcpExtSyncookiesSent), or clients that gave up"));
            return causes;
        }
        long completed = listener.Count(Fate.Accepted);
        var span = (listener.LastHalfEstablishedAtMicroseconds ?? 0) - (listener.FirstHalfEstablishedAtMicroseconds ?? 0);
        string burst = listener.HalfEstablished >= 2
            ? string.Create(inv, $"{listener.HalfEstablished:N0} half-established within {TimeText.Duration(span)} while {completed:N0} other(s) completed normally")
            : "one half-established connection";

        if (resetAtHandshake > 0)
            causes.Add(new("Accept-queue overflow, with net.ipv4.tcp_abort_on_overflow=1", CauseSupport.Shown,
                string.Create(inv, $"{resetAtHandshake:N0} final ACK(s) drew a RST at once: a listener resets a completed handshake only when its accept queue is full and tcp_abort_on_overflow is set"),
                "`sysctl net.ipv4.tcp_abort_on_overflow`; TcpExtListenOverflows rising (`nstat -az TcpExtListenOverflows`); `ss -ltn` Recv-Q reaching Send-Q (the backlog)"));
        bool deferAccept = listener.CompletedByDataWithoutResend > 0 && listener.CompletedByDataWithoutResend == listener.HalfEstablished;
        if (listener.LateFirstResend > 0 || deferAccept)
        {
            var evidence = new List<string>();
            if (listener.LateFirstResend > 0)
                evidence.Add(string.Create(inv, $"{listener.LateFirstResend:N0} re-sent their first SYN-ACK 2 s or more after the handshake instead of after about 1 s (TCP_DEFER_ACCEPT holds re-sends back)"));
            if (deferAccept)
                evidence.Add("every one completed on the client's data with no SYN-ACK re-sent (bare final ACKs dropped on purpose)");
            causes.Add(new("TCP_DEFER_ACCEPT on the listener", listener.LateFirstResend > 0 ? CauseSupport.Supported : CauseSupport.CannotTell,
                string.Join("; ", evidence),
                "the application's setsockopt(TCP_DEFER_ACCEPT) on the listening socket; the connections sit in SYN-RECV until data comes (`ss -tn state syn-recv`), which is by design"));
        }
        // Every one held back its first re-send as only TCP_DEFER_ACCEPT does: nothing is left for a dropped ACK to explain.
        if (resetAtHandshake == 0 && listener.LateFirstResend < listener.HalfEstablished)
        {
            // The wire shows the server did not take final ACKs; whether its accept queue was full, a firewall dropped them
            // or the network lost them, one capture point cannot see. SYNs dropped by the same listener point to a full queue.
            string notTaken = listener.RequestSocketKind > 0
                ? string.Create(inv, $"{listener.RequestSocketKind:N0} re-sent the SYN-ACK after the client's ACK: the server had not taken that ACK")
                : "the server did not act on the client's final ACK";
            if (synDropped > 0)
                causes.Add(new("Accept-queue overflow", CauseSupport.Supported,
                    string.Create(inv, $"{burst}; {notTaken}; and {synDropped:N0} SYN(s) to the same listener got no answer, which is what a full accept queue does to new SYNs"),
                    "TcpExtListenOverflows and TcpExtListenDrops rising (`nstat -az`); `ss -ltn` Recv-Q reaching Send-Q; a larger backlog (min(backlog, somaxconn)) or faster accept() fixes it"));
            else
                causes.Add(new("Accept-queue overflow, a firewall or middlebox dropping final ACKs, or loss on the way", CauseSupport.CannotTell,
                    $"{burst}; {notTaken}; nothing on the wire tells a full accept queue from a dropped ACK",
                    "TcpExtListenOverflows (`nstat -az TcpExtListenOverflows`): rising means the accept queue overflowed; `ss -ltn` Recv-Q against Send-Q; the firewall's counters (`nft list ruleset`, `iptables -vnL`) for dropped ACKs; a capture on the server host shows whether the ACKs arrived"));
        }
        if (listener.SyncookieKind > 0)
            causes.Add(new("Syncookies: the listener's request queue was full too", CauseSupport.Supported,
                string.Create(inv, $"{listener.SyncookieKind:N0} show no re-sent SYN-ACK: the server held no state after its SYN-ACK, so it re-sent nothing and only the client's data could complete them"),
                "TcpExtSyncookiesSent and TcpExtSyncookiesRecv (`nstat -az`); net.ipv4.tcp_syncookies and tcp_max_syn_backlog"));
        if (listener.Count(Fate.ResetOnData) > 0)
            causes.Add(new("The server's state expired silently before the client sent", CauseSupport.Supported,
                string.Create(inv, $"{listener.Count(Fate.ResetOnData):N0} drew a bare RST when the client sent after a silence"),
                "net.ipv4.tcp_synack_retries (how long a request socket lives); a stateful firewall that forgets connections and answers with RSTs looks alike: its conntrack timeouts"));
        return [.. causes.OrderBy(c => c.Support)]; // stable: within one support, the order above
    }

    /// <summary>What a capture taken at one point cannot tell.</summary>
    public IReadOnlyList<string> Limits()
    {
        var limits = new List<string>
        {
            "One capture point cannot tell whether the server's kernel dropped a final ACK or the network lost it before the server: capture on the server host, or read its TcpExtListenOverflows counter.",
            "The wire does not show accept(): \"accepted\" means the server's kernel completed the handshake; a connection complete but never accepted (queued) looks the same until the server sends.",
            "A syncookie connection whose client sends nothing is invisible: nothing crosses the wire after the handshake (such connections are unknown, not accepted).",
        };
        return limits;
    }
}
