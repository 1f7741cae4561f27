using System.Globalization;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// Collects the engine's finished connections for `halfway explain`: counts per listener, the connections worth showing
/// (every one that is not plainly accepted, bounded), and the handshake timings that tell where the capture was taken.
/// </summary>
internal sealed class ExplainReport(bool keepAll = false, int maxKept = 200_000) : IConnectionSink
{
    private readonly Dictionary<IpEndpoint, ListenerSummary> _listeners = new();
    private readonly List<ConnectionReport> _kept = [];
    private List<ConnectionReport>? _keptInStartOrder;
    private readonly List<long> _serverGaps = []; // SYN -> SYN-ACK
    private readonly List<long> _clientGaps = []; // SYN-ACK -> client's ACK
    private const int MaxGapSamples = 20_000;
    private long _handshakesLeftOut; // completed handshakes whose SYN or SYN-ACK was re-sent: their gaps include a retransmission timer

    /// <summary>Completed handshakes whose timings tell where the capture was taken (one SYN, one SYN-ACK, the ACK), up to the sample bound.</summary>
    public int HandshakesUsed => _serverGaps.Count;
    /// <summary>Completed handshakes left out of that inference because the client re-sent its SYN or the server its SYN-ACK.</summary>
    public long HandshakesLeftOut => _handshakesLeftOut;

    public long Connections { get; private set; }
    public long HalfEstablished { get; private set; }
    public long NotKept { get; private set; }
    /// <summary>The connections kept for details, in the order they started (the engine finishes them in another order: a refused one long before an accepted one that started earlier).</summary>
    public IReadOnlyList<ConnectionReport> Kept => _keptInStartOrder ??= [.. _kept.OrderBy(c => c.FirstSeenAtMicroseconds)];
    public IEnumerable<ListenerSummary> Listeners => _listeners.Values.OrderByDescending(l => l.HalfEstablished).ThenByDescending(l => l.Connections);

    /// <summary>
    /// Plainly accepted connections are only counted: the handshake timings of the first ones (which tell where the
    /// capture was taken) come with their summaries, so no report (evidence, reason, timeline) is built for them.
    /// </summary>
    public bool WantsReport(in ConnectionSummary summary) =>
        keepAll || summary.Fate != Fate.Accepted || summary.HalfEstablished;

    public void Count(in ConnectionSummary summary)
    {
        Connections++;
        if (summary.HalfEstablished)
            HalfEstablished++;
        if (!_listeners.TryGetValue(summary.Server, out var listener))
            _listeners[summary.Server] = listener = new ListenerSummary(summary.Server);
        listener.Count(summary);
        if (_serverGaps.Count < MaxGapSamples)
            SampleHandshake(summary.Handshake);
    }

    public void Add(ConnectionReport report)
    {
        Connections++;
        if (report.HalfEstablished)
            HalfEstablished++;
        if (!_listeners.TryGetValue(report.Server, out var listener))
            _listeners[report.Server] = listener = new ListenerSummary(report.Server);
        listener.Add(report);
        if (keepAll || report.Fate != Fate.Accepted || report.HalfEstablished)
        {
            if (_kept.Count < maxKept)
            {
                _kept.Add(report);
                _keptInStartOrder = null;
            }
            else
                NotKept++;
        }
        if (_serverGaps.Count < MaxGapSamples)
            SampleHandshake(HandshakeOf(report));
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

    private static long Median(List<long> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    /// <summary>What most likely happened at one listener, from its counts and the shape of its half-established connections.</summary>
    public IReadOnlyList<string> LikelyCauses(ListenerSummary listener)
    {
        var causes = new List<string>();
        if (listener.HalfEstablished == 0)
        {
            if (listener.Count(Fate.SynDropped) > 0)
                causes.Add($"{listener.Count(Fate.SynDropped):N0} SYN(s) got no answer: a full accept queue drops new SYNs (Linux ≥ 4.10), so do a full request queue with syncookies off and firewalls.");
            if (listener.Count(Fate.HandshakeIncomplete) > 0)
                causes.Add($"{listener.Count(Fate.HandshakeIncomplete):N0} handshake(s) were never acknowledged by the client: port scans, a SYN flood, or clients that gave up. Not half-established.");
            return causes;
        }
        long completed = listener.Count(Fate.Accepted);
        var span = (listener.LastHalfEstablishedAtMicroseconds ?? 0) - (listener.FirstHalfEstablishedAtMicroseconds ?? 0);
        if (listener.HalfEstablished >= 2 || listener.Count(Fate.ResetAtHandshake) > 0)
            causes.Add(string.Create(CultureInfo.InvariantCulture, $"Accept-queue overflow (most likely): {listener.HalfEstablished:N0} connections were half-established within {TimeText.Duration(span)} while {completed:N0} other(s) to the same listener completed normally: more handshakes were in flight than the accept queue (min(backlog, somaxconn) + 1) had room for, so the kernel dropped their final ACKs. A larger backlog, or an application that accepts faster, fixes it; TcpExtListenOverflows on the server confirms it. A firewall or middlebox that drops the final ACK gives the same picture on the wire."));
        else
            causes.Add("A single half-established connection: a final ACK lost in the network is as likely as an accept-queue overflow.");
        if (listener.SyncookieKind > 0)
            causes.Add($"{listener.SyncookieKind:N0} of them show no re-sent SYN-ACK: the server had answered with syncookies (its request queue was full too), so it held no state and re-sent nothing; only the client's data could complete them.");
        if (listener.RequestSocketKind > 0)
            causes.Add($"{listener.RequestSocketKind:N0} of them kept a request socket that re-sent its SYN-ACK after the client's ACK: the ACK was ignored (full accept queue) or lost.");
        if (listener.Count(Fate.ResetAtHandshake) > 0)
            causes.Add($"{listener.Count(Fate.ResetAtHandshake):N0} final ACK(s) drew a RST at once: the server runs with net.ipv4.tcp_abort_on_overflow=1.");
        if (listener.CompletedByDataWithoutResend > 0 && listener.CompletedByDataWithoutResend == listener.HalfEstablished)
            causes.Add("Every one of them completed on the client's data with no SYN-ACK re-sent: TCP_DEFER_ACCEPT on the listener drops bare final ACKs on purpose and looks exactly like this.");
        if (listener.LateFirstResend > 0)
            causes.Add($"{listener.LateFirstResend:N0} of them re-sent their first SYN-ACK 2 s or more after the handshake instead of after about 1 s: a listener with TCP_DEFER_ACCEPT holds re-sends back while it drops bare final ACKs on purpose, waiting for data.");
        if (listener.Count(Fate.ResetOnData) > 0)
            causes.Add($"{listener.Count(Fate.ResetOnData):N0} were reset when the client sent after the server's state had expired silently; a firewall that forgets connections and answers with RSTs would look alike.");
        return causes;
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
