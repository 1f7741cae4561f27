namespace Halfway.Analysis;

/// <summary>
/// A pure state machine: typed events of one connection in, a fate with its evidence out. It knows what the Linux
/// kernel does (see KERNEL-FACTS.md) and never guesses: when the events do not decide, the fate is unknown.
/// </summary>
public sealed class ConnectionClassifier
{
    public const string RequestSocketKind = "request-socket";
    public const string SyncookieKind = "syncookie";

    /// <summary>A RST this soon after the final ACK, with no SYN-ACK re-sent before, answered the final ACK itself.</summary>
    public const long ResetAtHandshakeWindowMicroseconds = 1_000_000;
    /// <summary>A request socket re-sends its first SYN-ACK after 1 s: silence longer than this after the client's ACK, with none re-sent, means no request socket.</summary>
    public const long NoResendMeansNoRequestMicroseconds = 1_500_000;
    /// <summary>Client data re-sent this many times without any answer is not ordinary loss (losses in a row on one path are rare).</summary>
    public const int UnansweredRetransmissionsForEvidence = 2;
    /// <summary>A syncookie dies 60–120 s after it was issued.</summary>
    public const long CookieLifetimeMicroseconds = 120_000_000;
    public const int MaxEvidence = 32;

    private readonly List<ConnectionEvent> _evidence = [];
    private int _evidenceDropped;

    private long? _firstAt, _lastAt, _synAt, _synAckAt, _refusedAt, _connectedAt, _ackReachedServerAt;
    private int _synCount;
    private int _resendsAfterAck;
    private long? _firstResendAfterAckAt, _lastResendAt, _previousResendAt;
    private long? _firstDataAt, _lastClientSegmentAt;
    private int _retransmissionsUnanswered; // client retransmissions while the server showed no complete socket
    private int _retransmissions;
    private long? _serverCompleteAt, _serverEstablishedAt, _acceptedAt, _bareRstAt, _callResetAt, _clientRstAt, _clientFinAt;
    private long? _requestSocketAfterAckAt, _socketGoneAt, _gotDataAt;
    private bool _connectFailed, _connectRefused, _sawStart, _clientSegmentSinceResend;

    public void Apply(in ConnectionEvent e)
    {
        long at = e.AtMicroseconds;
        _firstAt ??= at;
        _lastAt = at;
        switch (e.Kind)
        {
            case ConnectionEventKind.ClientSyn:
                _sawStart = true;
                _synAt ??= at;
                _synCount++;
                Keep(e);
                break;
            case ConnectionEventKind.ClientSynRetransmitted:
                _synCount++;
                Keep(e);
                break;
            case ConnectionEventKind.ServerSynAck:
                _sawStart = true;
                _synAckAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.ServerSynAckAnsweringSyn:
                Keep(e);
                break;
            case ConnectionEventKind.ServerSynAckResent:
                _sawStart = true;
                _synAckAt ??= at;
                if (_connectedAt is { } connected && at > connected && _serverCompleteAt is null)
                {
                    _resendsAfterAck++;
                    _firstResendAfterAckAt ??= at;
                    _clientSegmentSinceResend = false;
                }
                _previousResendAt = _lastResendAt ?? _synAckAt;
                _lastResendAt = at;
                Keep(e);
                break;
            case ConnectionEventKind.ServerRefused:
                _refusedAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.ClientHandshakeAck:
                if (_connectedAt is null)
                {
                    _connectedAt = at;
                    _ackReachedServerAt = e.Value > 0 ? e.Value : at;
                    Keep(e);
                }
                _lastClientSegmentAt = at;
                break;
            case ConnectionEventKind.ClientAck:
                _lastClientSegmentAt = at;
                if (_resendsAfterAck > 0 && !_clientSegmentSinceResend)
                    Keep(e);
                _clientSegmentSinceResend = true;
                break;
            case ConnectionEventKind.ClientData or ConnectionEventKind.ClientFin or ConnectionEventKind.ClientRetransmission:
                _connectedAt ??= at; // data with an ACK is also the client's handshake ACK when the pure ACK was not seen
                _ackReachedServerAt ??= at;
                _firstDataAt ??= at;
                _lastClientSegmentAt = at;
                _clientSegmentSinceResend = true;
                if (e.Kind == ConnectionEventKind.ClientFin)
                    _clientFinAt ??= at;
                if (e.Kind == ConnectionEventKind.ClientRetransmission)
                    _retransmissions++;
                if (e.Kind == ConnectionEventKind.ClientRetransmission && _serverCompleteAt is null && _bareRstAt is null)
                    _retransmissionsUnanswered++;
                if (e.Kind != ConnectionEventKind.ClientRetransmission || _serverCompleteAt is null)
                    Keep(e);
                break;
            case ConnectionEventKind.ClientRst:
                _clientRstAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.ServerCompleteSocket:
                if (_serverCompleteAt is null)
                {
                    _serverCompleteAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerBareRst:
                if (_bareRstAt is null)
                {
                    _bareRstAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.CallConnectOk:
                _sawStart = true;
                _connectedAt ??= at;
                _ackReachedServerAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.CallConnectRefused:
                _sawStart = true;
                _connectRefused = true;
                Keep(e);
                break;
            case ConnectionEventKind.CallConnectFailed:
                _sawStart = true;
                _connectFailed = true;
                Keep(e);
                break;
            case ConnectionEventKind.CallGotData:
                if (_gotDataAt is null)
                {
                    _gotDataAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.CallReset:
                _callResetAt ??= at;
                Keep(e);
                break;
            case ConnectionEventKind.CallTimeout:
                Keep(e);
                break;
            case ConnectionEventKind.ServerRequestSocket:
                // A request socket is normal until the final ACK reaches the server; after it, the ACK was ignored or lost.
                if (_ackReachedServerAt is { } reached && at > reached && _serverEstablishedAt is null && _serverCompleteAt is null && _requestSocketAfterAckAt is null)
                {
                    _requestSocketAfterAckAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerEstablished:
                if (_serverEstablishedAt is null)
                {
                    _serverEstablishedAt = at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerAccepted:
                if (_acceptedAt is null)
                {
                    _acceptedAt = at;
                    _serverEstablishedAt ??= at;
                    Keep(e);
                }
                break;
            case ConnectionEventKind.ServerSocketGone:
                if (_socketGoneAt is null && _serverEstablishedAt is null && _acceptedAt is null)
                {
                    _socketGoneAt = at;
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
        if (_evidence.Count < MaxEvidence)
            _evidence.Add(e);
        else
        {
            // Keep the beginning (how it started) and the latest event (how it ended).
            _evidence[^1] = e;
            _evidenceDropped++;
        }
    }

    public int EvidenceDropped => _evidenceDropped;

    /// <summary>Decides the fate at the end of observation (<paramref name="endMicroseconds"/>).</summary>
    /// <param name="serverSideObserved">The server's socket table and accepts were observed (lab runs): their absence is evidence.</param>
    public Verdict Finish(long endMicroseconds, bool serverSideObserved)
    {
        long? completed = Min(Min(_serverCompleteAt, _serverEstablishedAt), Min(_acceptedAt, _gotDataAt));
        long silenceSince = _lastAt ?? endMicroseconds;
        if (endMicroseconds - silenceSince >= 1_000_000 && _connectedAt is not null && completed is null)
            Keep(new ConnectionEvent(ConnectionEventKind.Silence, endMicroseconds, endMicroseconds - silenceSince));

        Verdict V(Fate fate, bool half, string? kind, string reason) =>
            new(fate, half, kind, reason, _connectedAt, completed, _acceptedAt, _evidence.ToArray());

        if (_connectedAt is null)
        {
            if (_refusedAt is not null || _connectRefused)
                return V(Fate.Refused, false, null, "the SYN was answered with a RST");
            if (!_sawStart)
                return V(Fate.Unknown, false, null, "the start of the connection is not in the capture");
            if (_synAckAt is not null)
                return V(Fate.HandshakeIncomplete, false, null, "the server answered but the client never acknowledged its SYN-ACK");
            if (_connectFailed || _synCount >= 2 || (_synAt is { } syn && endMicroseconds - syn >= 3_000_000))
                return V(Fate.SynDropped, false, null, _synCount >= 2 ? $"{_synCount} SYNs got no answer" : "the SYN got no answer");
            return V(Fate.Unknown, false, null, "observation ended during the handshake");
        }
        if (!_sawStart)
            return V(Fate.Unknown, false, null, "the start of the connection is not in the capture");

        long connected = _connectedAt.Value;
        bool requestSocket = _resendsAfterAck > 0 || _requestSocketAfterAckAt is not null;
        long? firstReset = Min(_bareRstAt, _callResetAt);
        bool ignoredData = _retransmissionsUnanswered >= UnansweredRetransmissionsForEvidence;
        bool serverHoldsNothing = _socketGoneAt is not null;

        if (completed is { } done)
        {
            bool lateEvidence = (_firstResendAfterAckAt is { } r && r < done) || (_requestSocketAfterAckAt is { } q && q < done) || ignoredData;
            string? kind = requestSocket ? RequestSocketKind : lateEvidence && serverSideObserved ? SyncookieKind : lateEvidence && done - connected >= NoResendMeansNoRequestMicroseconds ? SyncookieKind : null;
            if (serverSideObserved && _acceptedAt is null && _gotDataAt is null)
                return V(Fate.Queued, lateEvidence, kind, "the server's kernel completed the connection but the application never accepted it");
            if (lateEvidence)
                return V(Fate.AcceptedLate, true, kind, $"the server completed the connection {Seconds(done - connected)} after the client's ACK");
            return V(Fate.Accepted, false, null, "the server completed the handshake");
        }

        if (firstReset is { } reset)
        {
            if (!requestSocket && _firstResendAfterAckAt is null && reset - connected <= ResetAtHandshakeWindowMicroseconds && _retransmissionsUnanswered == 0)
                return V(Fate.ResetAtHandshake, true, RequestSocketKind, "a RST answered the final ACK at once");
            string? kind = requestSocket ? RequestSocketKind : (serverSideObserved || reset - connected >= NoResendMeansNoRequestMicroseconds) ? SyncookieKind : null;
            return V(Fate.ResetOnData, true, kind, "a bare RST answered the client's segment: the server held no state for it");
        }

        bool halfEvidence = requestSocket || ignoredData || serverHoldsNothing || serverSideObserved;
        if (!halfEvidence)
            return V(Fate.Unknown, false, null, _firstDataAt is null
                ? "nothing crossed the wire after the handshake: an idle accepted connection and a syncookie connection whose final ACK was dropped look the same"
                : "the client's data was not answered, but too few times to tell a dropped ACK from loss");

        string? halfKind = requestSocket ? RequestSocketKind : (serverSideObserved || endMicroseconds - connected >= NoResendMeansNoRequestMicroseconds) ? SyncookieKind : null;
        if (_clientRstAt is not null)
            return V(Fate.ClientAborted, true, halfKind, "the client reset the connection before the server completed it");

        bool clientWaitingForAnswer = _firstDataAt is not null; // its data is unacknowledged: a retransmission will come
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
            long last = _lastResendAt ?? connected;
            long interval = last - (_previousResendAt ?? last);
            bool resendsStopped = endMicroseconds - last > 2 * interval + 1_000_000;
            if (resendsStopped)
                return V(Fate.Unknown, true, halfKind, "the server stopped re-sending its SYN-ACK and nothing followed: the request either expired (stranded) or a re-ACK completed it");
            return V(Fate.StillHalfEstablished, true, halfKind, "the server was still re-sending its SYN-ACK when observation ended");
        }
        return V(Fate.StillHalfEstablished, true, halfKind, "the client's data was still unanswered when observation ended");
    }

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    internal static string Seconds(long micros) => TimeText.Duration(micros);
}
