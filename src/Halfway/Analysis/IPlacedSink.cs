namespace Halfway.Analysis;

/// <summary>
/// Receives the connections an engine fed with the caller's time finished, each with its place in the caller's packet
/// stream (see <see cref="AnalysisEngine.TakeTimeFromCaller"/>), so that several engines' connections can be merged
/// into one engine's order before they reach the sink.
/// </summary>
internal interface IPlacedSink
{
    /// <param name="report">The connection's report, or null when the sink did not want it (then <paramref name="summary"/> is what counts).</param>
    void Add(in FinishPlace place, ConnectionReport? report, in ConnectionSummary summary);
}
