using Halfway.Analysis;

namespace Halfway.Capture.Parallel;

/// <summary>
/// One thread's half of a split analysis: an engine that keeps the shards' common time, fed every packet of the stream
/// and analysing the flows of its share, and the connections it finished, waiting to be merged with the other half's.
/// </summary>
internal sealed class Shard
{
    private readonly ShardPlanner _planner;
    private readonly ShardPlan _plan = new(TwinFeed.BatchLength);

    public Shard(AnalysisEngine engine, bool twin)
    {
        Engine = engine;
        _planner = new ShardPlanner(twin);
    }

    public AnalysisEngine Engine { get; }
    public FinishedQueue Finished { get; } = new();
    /// <summary>Packets counted so far (the ordinal of the next one).</summary>
    public long Ordinal => _planner.Ordinal;
    /// <summary>The latest packet time seen (µs).</summary>
    public long Now => _planner.Now;

    /// <summary>A batch of the stream's packets (every one of them, in order): the plan, then the shard's own packets.</summary>
    public void Add(ReadOnlySpan<TimedSegment> packets)
    {
        _planner.Plan(packets, _plan);
        Engine.AddPicked(packets, _plan.Mine.AsSpan(0, _plan.MineCount), _plan.FirstOrdinal, _plan.Sweeps);
    }
}
