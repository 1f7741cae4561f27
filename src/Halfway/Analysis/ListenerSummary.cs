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

    /// <summary>Adds the counts of another summary of the same listener (a shard's tally).</summary>
    public void Absorb(ListenerSummary other)
    {
        Connections += other.Connections;
        for (int i = 0; i < _byFate.Length; i++)
            _byFate[i] += other._byFate[i];
        HalfEstablished += other.HalfEstablished;
        RequestSocketKind += other.RequestSocketKind;
        SyncookieKind += other.SyncookieKind;
        CompletedByDataWithoutResend += other.CompletedByDataWithoutResend;
        LateFirstResend += other.LateFirstResend;
        Certain += other.Certain;
        Likely += other.Likely;
        if (other.FirstHalfEstablishedAtMicroseconds is { } first)
            FirstHalfEstablishedAtMicroseconds = Math.Min(FirstHalfEstablishedAtMicroseconds ?? first, first);
        if (other.LastHalfEstablishedAtMicroseconds is { } last)
            LastHalfEstablishedAtMicroseconds = Math.Max(LastHalfEstablishedAtMicroseconds ?? last, last);
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
