using Halfway.Analysis;

namespace Halfway.Capture.Parallel;

/// <summary>
/// A connection a shard finished, with where one engine would have finished it (<see cref="FinishPlace"/>). Those still
/// open at the end are not listed: see <see cref="SplitEngine.Finish"/>.
/// </summary>
internal readonly record struct FinishedConnection(FinishPlace Place, ConnectionReport? Report, ConnectionSummary Summary);
