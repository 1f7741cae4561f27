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
}
