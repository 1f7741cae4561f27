using Halfway.Analysis;

namespace Halfway.Capture.Parallel;

/// <summary>
/// A shard's view of the whole packet stream: each shard sees every packet, so both keep the same clock (they sweep
/// before the same packets as one engine would) and count packets alike (the ordinals that order their finished
/// connections), while each analyses only the flows whose hash falls in its share.
/// </summary>
internal sealed class ShardPlanner(bool twin)
{
    /// <summary>
    /// Flows whose 4-tuple hash has its top byte below this are the twin's, the others the engine's own: half each.
    /// The top bits, because the flow table's slot is taken from the low ones.
    /// </summary>
    public const uint TwinShare = 128;

    private SweepClock _clock = SweepClock.New();
    private long _ordinal;
    public long Ordinal => _ordinal;
    public long Now => _clock.Now;

    public static bool IsTwins(uint hash) => hash >> 24 < TwinShare;

    public void Plan(ReadOnlySpan<TimedSegment> packets, ShardPlan plan)
    {
        plan.FirstOrdinal = _ordinal;
        _ordinal += packets.Length;
        plan.Sweeps.Clear();
        var mine = plan.Mine;
        int count = 0;
        var clock = _clock;
        for (int i = 0; i < packets.Length; i++)
        {
            ref readonly var p = ref packets[i];
            if (clock.Tick(p.At, AnalysisEngine.SweepIntervalMicroseconds))
                plan.Sweeps.Add((i, p.At));
            // Written every time, kept when it is this shard's: a branch here would be mispredicted every other packet.
            mine[count] = i;
            count += IsTwins(p.Hash) == twin ? 1 : 0;
        }
        _clock = clock;
        plan.MineCount = count;
    }
}
