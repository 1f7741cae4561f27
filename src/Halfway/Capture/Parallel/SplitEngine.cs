using Halfway.Analysis;

namespace Halfway.Capture.Parallel;

/// <summary>
/// An engine split in two shards for two threads that each read the whole capture: a twin engine (same context, same
/// sink) analyses the flows whose hash falls in its share (<see cref="ShardPlanner.TwinShare"/>), the caller's engine
/// the others. Flows never meet, so each shard does for its flows what one engine would: both see every packet, so
/// they sweep at the same moments, and their finished connections are merged (<see cref="FinishedQueue.Merge"/>) into
/// the order one engine hands them to the sink.
/// </summary>
/// <remarks>
/// Why: on a busy capture analysing took twice as long as reading and parsing, and handing parsed packets from one
/// core to the other cost as much as parsing them again (80 bytes a packet, written on one core, read on the other).
/// The sink's <see cref="IConnectionSink.WantsReport"/> is then also called from the twin's thread.
/// </remarks>
internal sealed class SplitEngine
{
    private SplitEngine(AnalysisEngine engine, Shard own)
    {
        Own = own;
        Twin = new Shard(new AnalysisEngine(engine.Context, engine.Sink), twin: true);
        if (!Twin.Engine.TakeTimeFromCaller(Twin.Finished))
            throw new InvalidOperationException("a new engine refused the caller's time");
        Sink = engine.Sink;
    }

    /// <summary>The caller's engine, fed on the calling thread.</summary>
    public Shard Own { get; }
    /// <summary>The twin engine, fed on a thread of its own (<see cref="TwinFeed"/>).</summary>
    public Shard Twin { get; }
    public IConnectionSink Sink { get; }

    /// <summary>When the flows still open at the end are finished: the context's end, or the latest packet time (both shards saw every packet).</summary>
    public static long EndMicroseconds(Shard shard) => shard.Engine.Context.EndMicroseconds ?? shard.Now;

    /// <summary>Splits an engine before its first packet; null (and nothing changes) if it has seen anything.</summary>
    public static SplitEngine? TrySplit(AnalysisEngine engine)
    {
        var own = new Shard(engine, twin: false);
        return engine.TakeTimeFromCaller(own.Finished) ? new SplitEngine(engine, own) : null;
    }

    /// <summary>
    /// Once both threads are done and everything they finished is merged: the flows still open in either shard are
    /// finished in the order they started, as one engine's <see cref="AnalysisEngine.Finish"/> would, and the twin's
    /// counts are added to the caller's engine, and what each shard counted itself to the sink. Both shards saw every
    /// packet: their clocks agree.
    /// </summary>
    /// <param name="twinsOpen">
    /// The twin's open flows when its thread has already finished them (<see cref="AnalysisEngine.FinishOpenFlowsPlaced"/>),
    /// in the order they started; null when they are still open in the twin engine.
    /// </param>
    public void Finish(FinishedQueue? twinsOpen = null)
    {
        long end = EndMicroseconds(Own);
        var mine = Own.Engine;
        var theirs = Twin.Engine;
        bool haveMine = mine.NextOpenFlow(out var myNext);
        if (twinsOpen is not null)
        {
            var ready = twinsOpen.Pending;
            int j = 0;
            while (haveMine || j < ready.Length)
            {
                if (j == ready.Length || haveMine && myNext.Precedes(ready[j].Place))
                {
                    mine.FinishNextOpenFlow(end);
                    haveMine = mine.NextOpenFlow(out myNext);
                }
                else if (ready[j++] is { Report: { } report })
                    Sink.Add(report);
                else
                    Sink.Count(ready[j - 1].Summary);
            }
            twinsOpen.Clear();
        }
        else
        {
            bool haveTheirs = theirs.NextOpenFlow(out var theirNext);
            while (haveMine || haveTheirs)
            {
                if (!haveTheirs || haveMine && myNext.Precedes(theirNext))
                {
                    mine.FinishNextOpenFlow(end);
                    haveMine = mine.NextOpenFlow(out myNext);
                }
                else
                {
                    theirs.FinishNextOpenFlow(end);
                    haveTheirs = theirs.NextOpenFlow(out theirNext);
                }
            }
        }
        mine.AddCountsOf(theirs);
        mine.HandTallyToSink();
        theirs.HandTallyToSink();
    }
}
