namespace Halfway.Observe.Watch;

/// <summary>
/// Everything one sample saw: the watched listeners, the namespace's counters with their change
/// since the previous reading, the targets that have no listener, and the alerts it raised.
/// </summary>
internal sealed record WatchSample(
    DateTimeOffset Time,
    TimeSpan Interval,
    string Namespace,
    IReadOnlyList<ListenerSample> Listeners,
    IReadOnlyList<CounterSample> Counters,
    IReadOnlyList<string> NotListening,
    IReadOnlyList<string> MissingCounters,
    IReadOnlyList<string> Alerts,
    TimeSpan SampleDuration)
{
    /// <summary>
    /// Whether this sample walked the established hash for SYN-RECV request sockets. When it did not
    /// (nothing hinted at lingering requests), the listeners' SYN-RECV figures are 0 by inference.
    /// </summary>
    public bool SynRecvScanned { get; init; } = true;

    /// <summary>The alerts that are on after this sample, and those that ended at it.</summary>
    public IReadOnlyList<ActiveAlert> ActiveAlerts { get; init; } = [];

    /// <summary>For each target named with an address, the listener that takes its connections (itself or a wildcard).</summary>
    public IReadOnlyList<(string Target, string Listener)> Routes { get; init; } = [];

    /// <summary>The kernel witness: "on", "off: WHY", or "off (--no-kernel-events)".</summary>
    public string KernelWitness { get; init; } = "off (--no-kernel-events)";
    /// <summary>Per listener and reason, the packets its kernel dropped (from the witness; empty when it is off).</summary>
    public IReadOnlyList<HandshakeDrops> HandshakeDrops { get; init; } = [];
    /// <summary>Events the witness's ring buffer had no room for since watch started.</summary>
    public ulong KernelEventsLost { get; init; }
}
