using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>The connections to one listener (server address:port), counted by fate.</summary>
public sealed class ListenerSummary(IpEndpoint server)
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

    public long Count(Fate fate) => _byFate[(int)fate];

    public IEnumerable<(Fate Fate, long Count)> ByFate =>
        Enum.GetValues<Fate>().Where(f => _byFate[(int)f] > 0).Select(f => (f, _byFate[(int)f]));

    public void Add(ConnectionReport report)
    {
        Connections++;
        _byFate[(int)report.Fate]++;
        if (!report.HalfEstablished)
            return;
        HalfEstablished++;
        if (report.Kind == ConnectionClassifier.RequestSocketKind) RequestSocketKind++;
        else if (report.Kind == ConnectionClassifier.SyncookieKind) SyncookieKind++;
        long at = report.ConnectedAtMicroseconds ?? report.FirstSeenAtMicroseconds;
        FirstHalfEstablishedAtMicroseconds = Math.Min(FirstHalfEstablishedAtMicroseconds ?? at, at);
        LastHalfEstablishedAtMicroseconds = Math.Max(LastHalfEstablishedAtMicroseconds ?? at, at);
        if (report.Fate == Fate.AcceptedLate && report.SynAckResends == 0 && report.Kind != ConnectionClassifier.RequestSocketKind)
            CompletedByDataWithoutResend++;
    }
}
