using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>The connections to one listener (server address:port), counted by fate.</summary>
internal sealed class ListenerSummary(IpEndpoint server)
{
    private readonly long[] _byFate = new long[Enum.GetValues<Fate>().Length];

    public IpEndpoint Server { get; } = server;
    public long Connections { get; private set; }
    public long HalfEstablished { get; private set; }
    public long RequestSocketKind { get; private set; }
    public long SyncookieKind { get; private set; }
    public long? FirstHalfEstablishedAtMicroseconds { get; private set; }
    public long? LastHalfEstablishedAtMicroseconds { get; private set; }
    /// <summary>Half-established connections completed by the client's data with no SYN-ACK re-sent (also what TCP_DEFER_ACCEPT looks like).</summary>
    public long CompletedByDataWithoutResend { get; private set; }
    /// <summary>Request sockets whose first SYN-ACK re-send came 2 s or more after the SYN-ACK instead of about 1 s: TCP_DEFER_ACCEPT holds re-sends back.</summary>
    public long LateFirstResend { get; private set; }
    /// <summary>Half-established verdicts the wire shows directly (<see cref="VerdictConfidence"/>), and those it shows only indirectly.</summary>
    public long Certain { get; private set; }
    public long Likely { get; private set; }

    public long Count(Fate fate) => _byFate[(int)fate];

    public IEnumerable<(Fate Fate, long Count)> ByFate =>
        Enum.GetValues<Fate>().Where(f => _byFate[(int)f] > 0).Select(f => (f, _byFate[(int)f]));

    /// <summary>A connection known only by its summary (its report was not built).</summary>
    public void Count(in ConnectionSummary summary)
    {
        Connections++;
        _byFate[(int)summary.Fate]++;
        if (summary.HalfEstablished)
        {
            HalfEstablished++;
            if (summary.Kind == ConnectionClassifier.RequestSocketKind) RequestSocketKind++;
            else if (summary.Kind == ConnectionClassifier.SyncookieKind) SyncookieKind++;
        }
    }

    public void Add(ConnectionReport report)
    {
        Connections++;
        _byFate[(int)report.Fate]++;
        if (!report.HalfEstablished)
            return;
        HalfEstablished++;
        if (report.Kind == ConnectionClassifier.RequestSocketKind) RequestSocketKind++;
        else if (report.Kind == ConnectionClassifier.SyncookieKind) SyncookieKind++;
        if (report.Confidence is { Certain: true }) Certain++; else Likely++;
        long at = report.ConnectedAtMicroseconds ?? report.FirstSeenAtMicroseconds;
        FirstHalfEstablishedAtMicroseconds = Math.Min(FirstHalfEstablishedAtMicroseconds ?? at, at);
        LastHalfEstablishedAtMicroseconds = Math.Max(LastHalfEstablishedAtMicroseconds ?? at, at);
        long synAck = 0, firstResend = 0;
        foreach (var e in report.Evidence)
        {
            if (e.Kind == ConnectionEventKind.ServerSynAck && synAck == 0) synAck = e.AtMicroseconds;
            else if (e.Kind == ConnectionEventKind.ServerSynAckResent && firstResend == 0) firstResend = e.AtMicroseconds;
        }
        if (synAck != 0 && firstResend != 0 && firstResend - synAck >= 2_000_000)
            LateFirstResend++;
        if (report.Fate == Fate.AcceptedLate && report.SynAckResends == 0 && report.Kind != ConnectionClassifier.RequestSocketKind)
            CompletedByDataWithoutResend++;
    }
}
