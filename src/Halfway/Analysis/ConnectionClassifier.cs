using System.Runtime.InteropServices;

namespace Halfway.Analysis;

/// <summary>
/// A pure state machine: typed events of one connection in, a fate with its evidence out. It knows what the Linux
/// kernel does (see KERNEL-FACTS.md) and never guesses: when the events do not decide, the fate is unknown.
/// </summary>
internal sealed class ConnectionClassifier
{
    public const string RequestSocketKind = "request-socket";
    public const string SyncookieKind = "syncookie";

    /// <summary>A RST this soon after the final ACK, with no SYN-ACK re-sent before, answered the final ACK itself.</summary>
    public const long ResetAtHandshakeWindowMicroseconds = 1_000_000;
    /// <summary>A request socket re-sends its first SYN-ACK after 1 s: silence longer than this after the client's ACK, with none re-sent, means no request socket.</summary>
    public const long NoResendMeansNoRequestMicroseconds = 1_500_000;
    /// <summary>Client data re-sent this many times without any answer is not ordinary loss (losses in a row on one path are rare).</summary>
    public const int UnansweredRetransmissionsForEvidence = 2;
    /// <summary>
    /// Next to the server the SYN-ACK follows the SYN at once while the client's ACK comes a round trip later. There, client
    /// data that went unanswered was not lost on the way (Linux ACKs the first segments at once): one retransmission is enough.
    /// </summary>
    public const long NearServerSynAckGapMicroseconds = 1_000;
    /// <summary>A syncookie is valid at least this long after it was issued.</summary>
    public const long CookieMinimumLifetimeMicroseconds = 60_000_000;
    /// <summary>A syncookie dies 60–120 s after it was issued.</summary>
    public const long CookieLifetimeMicroseconds = 120_000_000;
    public const int MaxEvidence = 32;

    private readonly List<ConnectionEvent> _evidence;

    public ConnectionClassifier(int expectedEvents = 8)
    {
        _evidence = new List<ConnectionEvent>(Math.Min(expectedEvents, MaxEvidence) + 1);
    }
    private State _s;

    /// <summary>Everything the machine remembers about one connection; reset wholesale so one classifier serves many connections.</summary>
    private struct State
    {
        public int EvidenceDropped;

        public long? FirstAt, LastAt, SynAt, SynAckAt, RefusedAt, ConnectedAt, AckReachedServerAt;
        public int SynCount, SynsBeforeSynAck, SynAckResendsBeforeAck;
        public long? AnsweredSynAt; // the last SYN before the first SYN-ACK: the one it answered
        public int ResendsAfterAck;
        public long? FirstResendAfterAckAt, LastResendAt, PreviousResendAt;
        public long? FirstDataAt, LastClientSegmentAt;
        public int RetransmissionsUnanswered; // client retransmissions while the server showed no complete socket
        public int Retransmissions;
        public long? ServerCompleteAt, ServerEstablishedAt, AcceptedAt, BareRstAt, CallResetAt, ClientRstAt, ClientFinAt;
        public long? RequestSocketAfterAckAt, SocketGoneAt, GotDataAt, AcceptUnknownAt;
        /// <summary>The client's latest ACK of a SYN-ACK (the handshake ACK, or the re-ACK of a re-sent one) with no client segment since.</summary>
        public long? PendingSynAckAckAt;
        /// <summary>The bare RST answered an ACK of a SYN-ACK, before the client had sent any data: the request socket reset it.</summary>
        public bool RstAnsweredSynAckAck;
        public long? HandshakeAckAt, FirstNewDataAt, ServerSynAckAt;
        public bool HandshakeAckDroppedByLink, FirstNewDataIsFin, GoneAfterHeld;
        public int SynAckResends;
        public bool ConnectFailed, ConnectRefused, SawStart, ClientSegmentSinceResend;
    }

    /// <summary>Forgets the previous connection: the engine reuses one classifier instead of allocating one per connection.</summary>
    /// <param name="keepEvidence">False when only the decision and the summary are wanted (<see cref="Decide"/>,
    /// <see cref="Handshake"/>): the events are then not copied into the evidence, and <see cref="Finish"/> must not follow.</param>
    public void Reset(bool keepEvidence = true)
    {
        _s = default;
        _evidence.Clear();
        _keepEvidence = keepEvidence;
    }

    private bool _keepEvidence = true;

    public void Apply(in ConnectionEvent e)
    {
        long at = e.AtMicroseconds;
        _s.FirstAt ??= at;
        _s.LastAt = at;
        switch (e.Kind)
        {
            case ConnectionEventKind.ClientSyn:
                _s.SawStart = true;
                _s.SynAt ??= at;
                _s.SynCount++;
                NoteSynBeforeSynAck(at);
                Keep(e);
                break;
            case ConnectionEventKind.ClientSynRetransmitted:
                _s.SynCount++;
                NoteSynBeforeSynAck(at);
                Keep(e);
                break;
            case ConnectionEventKind.ServerSynAck:
                _s.SawStart = true;
                _s.SynAckAt ??= at;
                _s.ServerSynAckAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.ServerSynAckAnsweringSyn:
                Keep(e);
                break;
            case ConnectionEventKind.ServerSynAckResent:
                _s.SawStart = true;
                _s.SynAckAt ??= at;
                _s.SynAckResends++;
                if (_s.HandshakeAckAt is null)
                    _s.SynAckResendsBeforeAck++;
                if (_s.ConnectedAt is { } connected && at > connected && _s.ServerCompleteAt is null)
                {
                    _s.ResendsAfterAck++;
                    _s.FirstResendAfterAckAt ??= at;
                    _s.ClientSegmentSinceResend = false;
                }
                _s.PreviousResendAt = _s.LastResendAt ?? _s.SynAckAt;
                _s.LastResendAt = at;
                Keep(e);
                break;
            case ConnectionEventKind.ServerRefused:
                _s.RefusedAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.ClientHandshakeAck:
                bool firstAck = _s.HandshakeAckAt is null;
                if (firstAck)
                {
                    _s.HandshakeAckAt = at;
                    _s.HandshakeAckDroppedByLink = e.Value < 0;
                    Keep(e);
                }
                if (_s.ConnectedAt is null)
                {
                    _s.ConnectedAt = at;
                    _s.AckReachedServerAt = e.Value > 0 ? e.Value : at;
                }
                else if (firstAck && e.Value > 0)
                    _s.AckReachedServerAt = e.Value; // connect() was seen first: the ACK's own arrival is the better time
                _s.LastClientSegmentAt = at;
                _s.PendingSynAckAckAt = at;
                break;
            case ConnectionEventKind.ClientAck:
                _s.LastClientSegmentAt = at;
                // A pure ACK right after a re-sent SYN-ACK answers it; any other (a keepalive probe, say) does not.
                _s.PendingSynAckAckAt = _s.LastResendAt is not null && !_s.ClientSegmentSinceResend ? at : null;
                if (_s.ResendsAfterAck > 0 && !_s.ClientSegmentSinceResend)
                    Keep(e);
                _s.ClientSegmentSinceResend = true;
                break;
            case ConnectionEventKind.ClientData or ConnectionEventKind.ClientFin or ConnectionEventKind.ClientRetransmission:
                _s.ConnectedAt ??= at; // data with an ACK is also the client's handshake ACK when the pure ACK was not seen
                _s.AckReachedServerAt ??= at;
                _s.FirstDataAt ??= at;
                _s.LastClientSegmentAt = at;
                _s.ClientSegmentSinceResend = true;
                _s.PendingSynAckAckAt = null;
                if (e.Kind == ConnectionEventKind.ClientFin)
                    _s.ClientFinAt ??= at;
                if (e.Kind != ConnectionEventKind.ClientRetransmission && _s.FirstNewDataAt is null)
                {
                    _s.FirstNewDataAt = at;
                    _s.FirstNewDataIsFin = e.Kind == ConnectionEventKind.ClientFin;
                }
                if (e.Kind == ConnectionEventKind.ClientRetransmission)
                    _s.Retransmissions++;
                if (e.Kind == ConnectionEventKind.ClientRetransmission && _s.ServerCompleteAt is null && _s.BareRstAt is null)
                    _s.RetransmissionsUnanswered++;
                if (e.Kind != ConnectionEventKind.ClientRetransmission || _s.ServerCompleteAt is null)
                    Keep(e);
                break;
            case ConnectionEventKind.ClientRst:
                _s.ClientRstAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.ServerCompleteSocket:
                if (_s.ServerCompleteAt is null)
                {
                    _s.ServerCompleteAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerBareRst:
                if (_s.BareRstAt is null)
                {
                    _s.BareRstAt = at;
                    _s.RstAnsweredSynAckAck = _s.PendingSynAckAckAt is { } ackAt && at - ackAt <= ResetAtHandshakeWindowMicroseconds && _s.FirstDataAt is null;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.CallConnectOk:
                _s.SawStart = true;
                _s.ConnectedAt ??= at;
                _s.AckReachedServerAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.CallConnectRefused:
                _s.SawStart = true;
                _s.ConnectRefused = true;
                Keep(e);
                break;
            case ConnectionEventKind.CallConnectFailed:
                _s.SawStart = true;
                _s.ConnectFailed = true;
                Keep(e);
                break;
            case ConnectionEventKind.CallGotData:
                if (_s.GotDataAt is null)
                {
                    _s.GotDataAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.CallReset:
                _s.CallResetAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.CallTimeout:
                Keep(e);
                break;
            case ConnectionEventKind.ServerRequestSocket:
                // A request socket is normal until the final ACK reaches the server; after it, the ACK was ignored or lost.
                if (_s.AckReachedServerAt is { } reached && at > reached && _s.ServerEstablishedAt is null && _s.ServerCompleteAt is null && _s.RequestSocketAfterAckAt is null)
                {
                    _s.RequestSocketAfterAckAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerEstablished:
                if (_s.ServerEstablishedAt is null)
                {
                    _s.ServerEstablishedAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerAccepted:
                if (_s.AcceptedAt is null)
                {
                    _s.AcceptedAt = at;
                    _s.ServerEstablishedAt ??= at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerAcceptUnknown:
                if (_s.AcceptUnknownAt is null)
                {
                    _s.AcceptUnknownAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerSocketGone:
                if (_s.SocketGoneAt is null && _s.ServerEstablishedAt is null && _s.AcceptedAt is null)
                {
                    _s.SocketGoneAt = at;
                    _s.GoneAfterHeld = e.Value > 0;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.Silence:
                Keep(e);
                break;
        }
    }

    private void Keep(in ConnectionEvent e)
    {
        if (!_keepEvidence)
            return;
        if (_evidence.Count < MaxEvidence)
            _evidence.Add(e);
        else
        {
            // Keep the beginning (how it started) and the latest event (how it ended).
            _evidence[^1] = e;
            _s.EvidenceDropped++;
        }
    }

    public int EvidenceDropped => _s.EvidenceDropped;

    /// <summary>Decides the fate at the end of observation (<paramref name="endMicroseconds"/>).</summary>
    /// <param name="serverSideObserved">The server's socket table and accepts were observed (lab runs): their absence is evidence.</param>
    public Verdict Finish(long endMicroseconds, bool serverSideObserved) => Finish(Decide(endMicroseconds, serverSideObserved), endMicroseconds);

    /// <summary>The verdict for a <paramref name="decision"/> just made by <see cref="Decide"/> (its reason text is not built twice).</summary>
    public Verdict Finish(in Decision decision, long endMicroseconds)
    {
        if (!_keepEvidence)
            throw new InvalidOperationException("the events were applied without keeping the evidence");
        long? silence = null;
        if (EndsInSilence(decision, endMicroseconds))
        {
            silence = endMicroseconds - (_s.LastAt ?? endMicroseconds);
            Keep(new ConnectionEvent(ConnectionEventKind.Silence, endMicroseconds, silence.Value));
        }
        return new Verdict(decision.Fate, decision.HalfEstablished, decision.Kind, decision.Reason, _s.ConnectedAt, decision.CompletedAt,
            _s.AcceptedAt, _evidence.ToArray()) { Facts = Facts(silence) };
    }

    private void NoteSynBeforeSynAck(long at)
    {
        if (_s.ServerSynAckAt is not null)
            return;
        _s.SynsBeforeSynAck++;
        _s.AnsweredSynAt = at;
    }

    private ConnectionFacts Facts(long? silence) => new()
    {
        SynAt = _s.SynAt,
        AnsweredSynAt = _s.AnsweredSynAt,
        SynsBeforeSynAck = _s.SynsBeforeSynAck,
        SynAckResendsBeforeAck = _s.SynAckResendsBeforeAck,
        SynAckAt = _s.ServerSynAckAt,
        HandshakeAckAt = _s.HandshakeAckAt,
        HandshakeAckDroppedByLink = _s.HandshakeAckDroppedByLink,
        SynAckResends = _s.SynAckResends,
        FirstResendAfterAckAt = _s.FirstResendAfterAckAt,
        FirstDataAt = _s.FirstNewDataAt,
        FirstDataIsFin = _s.FirstNewDataIsFin,
        ClientRetransmissions = _s.Retransmissions,
        DataResendsBeforeServerAck = _s.RetransmissionsUnanswered,
        BareRstAt = _s.BareRstAt,
        CallResetAt = _s.CallResetAt,
        RequestSocketAfterAckAt = _s.RequestSocketAfterAckAt,
        ServerSocketGoneAt = _s.SocketGoneAt,
        AcceptUnknownAt = _s.AcceptUnknownAt,
        ServerTableHeldIt = _s.GoneAfterHeld,
        SilenceAtEnd = silence,
    };

    /// <summary>Whether <see cref="Finish"/> ends the evidence with a <see cref="ConnectionEventKind.Silence"/> event.</summary>
    private bool EndsInSilence(in Decision decision, long endMicroseconds) =>
        endMicroseconds - (_s.LastAt ?? endMicroseconds) >= 1_000_000 && _s.ConnectedAt is not null && decision.CompletedAt is null
        && _s.BareRstAt is null && _s.CallResetAt is null && _s.ClientRstAt is null;

    /// <summary>The handshake's times and the SYN-ACK re-sends, without materialising the evidence: a sink that only samples handshake timings needs no report.</summary>
    public HandshakeTimes Handshake() => new(_s.AnsweredSynAt ?? 0, _s.ServerSynAckAt ?? 0, _s.HandshakeAckAt ?? 0, _s.SynAckResendsBeforeAck, _s.SynsBeforeSynAck);

    /// <summary>Client data or FINs re-sent while the server showed no complete connection (and no bare RST).</summary>
    public int DataResendsBeforeServerAck => _s.RetransmissionsUnanswered;

    /// <summary>The fate alone, without materialising the evidence: what the engine asks for every connection before deciding whether anyone wants the details.</summary>
    public Decision Decide(long endMicroseconds, bool serverSideObserved)
    {
        long? completed = Min(Min(_s.ServerCompleteAt, _s.ServerEstablishedAt), Min(_s.AcceptedAt, _s.GotDataAt));

        Decision V(Fate fate, bool half, string? kind, string reason) => new(fate, half, kind, reason, completed);

        if (_s.ConnectedAt is null)
        {
            if (_s.RefusedAt is not null || _s.ConnectRefused)
                return V(Fate.Refused, false, null, "the SYN was answered with a RST");
            if (!_s.SawStart)
                return V(Fate.Unknown, false, null, "the start of the connection is not in the capture");
            if (_s.SynAckAt is not null)
                return V(Fate.HandshakeIncomplete, false, null, "the server answered but the client never acknowledged its SYN-ACK");
            if (_s.ConnectFailed || _s.SynCount >= 2 || (_s.SynAt is { } syn && endMicroseconds - syn >= 3_000_000))
                return V(Fate.SynDropped, false, null, _s.SynCount >= 2 ? $"{_s.SynCount} SYNs got no answer" : "the SYN got no answer");
            return V(Fate.Unknown, false, null, "observation ended during the handshake");
        }
        if (!_s.SawStart)
            return V(Fate.Unknown, false, null, "the start of the connection is not in the capture");

        long connected = _s.ConnectedAt.Value;
        bool requestSocket = _s.ResendsAfterAck > 0 || _s.RequestSocketAfterAckAt is not null;
        long? firstReset = Min(_s.BareRstAt, _s.CallResetAt);
        bool nearServer = _s.AnsweredSynAt is { } synAt && _s.SynAckAt is { } synAckAt && synAckAt >= synAt
            && synAckAt - synAt <= NearServerSynAckGapMicroseconds && connected - synAckAt >= 5 * Math.Max(synAckAt - synAt, 100);
        bool ignoredData = _s.RetransmissionsUnanswered >= (nearServer ? 1 : UnansweredRetransmissionsForEvidence);
        bool serverHoldsNothing = _s.SocketGoneAt is not null;

        if (completed is { } done)
        {
            // A socket-table sample that held nothing for the connection after its final ACK arrived proves it half-established too.
            bool lateEvidence = (_s.FirstResendAfterAckAt is { } r && r < done) || (_s.RequestSocketAfterAckAt is { } q && q < done) || ignoredData
                || (_s.SocketGoneAt is { } g && g < done);
            string? kind = requestSocket ? RequestSocketKind : lateEvidence && serverSideObserved ? SyncookieKind : lateEvidence && done - connected >= NoResendMeansNoRequestMicroseconds ? SyncookieKind : null;
            if (serverSideObserved && _s.AcceptedAt is null && _s.GotDataAt is null && _s.AcceptUnknownAt is not null)
                return V(Fate.Unknown, lateEvidence, kind, "the server's kernel completed the connection, and whether the application accepted it is not known: its socket left the server's table between two samples without a sign of an accept (no inode, no data, FIN or RST from the server)");
            if (serverSideObserved && _s.AcceptedAt is null && _s.GotDataAt is null)
                return V(Fate.Queued, lateEvidence, kind, "the server's kernel completed the connection but the application never accepted it");
            if (lateEvidence)
                return V(Fate.AcceptedLate, true, kind, $"the first sign of a complete connection on the server came {Seconds(done - connected)} after the client's ACK");
            return V(Fate.Accepted, false, null, "the server completed the handshake");
        }

        if (firstReset is { } reset)
        {
            // The client never sent data and no call of its failed: its FIN at close was the first segment the server
            // could answer. Nothing told the client while it used the connection.
            if (_s.ClientFinAt is { } fin && _s.FirstDataAt == fin && _s.CallResetAt is null && reset >= fin)
            {
                string? finKind = requestSocket ? RequestSocketKind : serverSideObserved ? SyncookieKind : null;
                return V(Fate.Stranded, true, finKind, "nothing told the client while it used the connection; the FIN it sent when it closed drew a bare RST");
            }
            if (!requestSocket && _s.FirstResendAfterAckAt is null && reset - connected <= ResetAtHandshakeWindowMicroseconds && _s.RetransmissionsUnanswered == 0)
                return V(Fate.ResetAtHandshake, true, RequestSocketKind, "a RST answered the final ACK at once");
            // tcp_abort_on_overflow=1: the request socket answers the ACK of its (re-sent) SYN-ACK with a RST when the accept
            // queue is full. A request that had expired sends no SYN-ACK to be ACKed, and a syncookie sends none again.
            if (_s.RstAnsweredSynAckAck && _s.BareRstAt == reset)
                return V(Fate.ResetAtHandshake, true, RequestSocketKind, "a RST answered the client's ACK of the re-sent SYN-ACK at once, before any data");
            string? kind = requestSocket ? RequestSocketKind : (serverSideObserved || reset - connected >= NoResendMeansNoRequestMicroseconds) ? SyncookieKind : null;
            return V(Fate.ResetOnData, true, kind, "a bare RST answered the client's segment: the server held no state for it");
        }

        bool halfEvidence = requestSocket || ignoredData || serverHoldsNothing || serverSideObserved;
        if (!halfEvidence)
            return V(Fate.Unknown, false, null, _s.FirstDataAt is null
                ? "nothing crossed the wire after the handshake: an idle accepted connection and a syncookie connection whose final ACK was dropped look the same"
                : "the client's data was not answered, but too few times to tell a dropped ACK from loss");

        string? halfKind = requestSocket ? RequestSocketKind : (serverSideObserved || endMicroseconds - connected >= NoResendMeansNoRequestMicroseconds) ? SyncookieKind : null;
        if (_s.ClientRstAt is not null)
            return V(Fate.ClientAborted, true, halfKind, "the client reset the connection before the server completed it");

        bool clientWaitingForAnswer = _s.FirstDataAt is not null; // its data is unacknowledged: a retransmission will come
        if (serverSideObserved)
        {
            bool requestGone = serverHoldsNothing || halfKind == SyncookieKind && endMicroseconds - connected >= CookieLifetimeMicroseconds;
            if (requestGone && !clientWaitingForAnswer)
                return V(Fate.Stranded, true, halfKind, "the server holds nothing and the client is not sending: nothing will tell it");
            return V(Fate.StillHalfEstablished, true, halfKind, "the server had not completed the connection when observation ended");
        }

        // Packets only. A request socket that keeps re-sending is still there; one that stopped either expired or was
        // completed by the client's re-ACK: the wire cannot tell which unless the client sends again.
        if (requestSocket && !clientWaitingForAnswer)
        {
            long last = _s.LastResendAt ?? connected;
            long interval = last - (_s.PreviousResendAt ?? last);
            bool resendsStopped = endMicroseconds - last > 2 * interval + 1_000_000;
            if (resendsStopped)
                return V(Fate.Unknown, true, halfKind, "the server stopped re-sending its SYN-ACK and nothing followed: the request either expired (stranded) or a re-ACK completed it");
            return V(Fate.StillHalfEstablished, true, halfKind, "the server was still re-sending its SYN-ACK when observation ended");
        }
        return V(Fate.StillHalfEstablished, true, halfKind, "the client's data was still unanswered when observation ended");
    }

    /// <summary>A fate with the one-line reason that decided it.</summary>
    public readonly record struct Decision(Fate Fate, bool HalfEstablished, string? Kind, string Reason, long? CompletedAt);

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    internal static string Seconds(long micros) => TimeText.Duration(micros);
}
