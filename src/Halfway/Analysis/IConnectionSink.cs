namespace Halfway.Analysis;

/// <summary>
/// Receives finished connections from the engine. A sink that only counts most connections says so in
/// <see cref="WantsReport"/>: the engine then skips building their evidence and timeline, which is most of its allocation.
/// </summary>
internal interface IConnectionSink
{
    /// <summary>Must not change the sink: engines that share out a stream's flows (<see cref="AnalysisEngine.TakeTimeFromCaller"/>) call it from their threads. Add and Count come from one.</summary>
    bool WantsReport(in ConnectionSummary summary);
    void Add(ConnectionReport report);
    /// <summary>A connection whose report was not wanted.</summary>
    void Count(in ConnectionSummary summary);

    /// <summary>
    /// True once the order of further <see cref="Count"/> calls no longer changes the result (nothing but sums depends on
    /// them any more); once true, it stays true. Read from the threads of split engines: they then add up their counts
    /// themselves and hand them over with <see cref="AddTally"/>.
    /// </summary>
    bool CountsCommute => false;

    /// <summary>Connections counted by a shard after <see cref="CountsCommute"/> became true, as if each had been given to <see cref="Count"/>.</summary>
    void AddTally(ConnectionTally tally) => throw new NotSupportedException("this sink's counts do not commute");
}
