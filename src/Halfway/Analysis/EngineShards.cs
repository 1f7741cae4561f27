using System.Runtime.InteropServices;

namespace Halfway.Analysis;

/// <summary>
/// One shard's share of a batch of capture packets (see <see cref="AnalysisEngine.SplitIntoShards"/>): which packets are
/// its own, and the sweeps an unsplit engine would have run between them.
/// </summary>
internal sealed class ShardPlan(int length)
{
    /// <summary>The ordinal of the batch's first packet (packets counted since the engine was split).</summary>
    public long FirstOrdinal;
    /// <summary>Indices in the batch of the shard's own packets, in order.</summary>
    public readonly int[] Mine = new int[length];
    public int MineCount;
    /// <summary>Before the packet at the index, a sweep at the time.</summary>
    public readonly List<(int Index, long At)> Sweeps = [];
}

/// <summary>
/// A shard's view of the whole packet stream: each shard sees every packet, so both keep the same clock (they sweep
/// before the same packets as an unsplit engine would) and count packets alike (the ordinals that order their
/// finished connections), while each analyses only the flows whose hash falls in its share.
/// </summary>
internal sealed class ShardPlanner(bool twin)
{
    /// <summary>
    /// Flows whose 4-tuple hash has its top byte below this are the twin's, the others the engine's own: half each.
    /// The top bits, because the flow table's slot is taken from the low ones.
    /// </summary>
    public const uint TwinShare = 128;

    private long _nextSweepAt = long.MinValue;
    private long _ordinal;
    public long Ordinal => _ordinal;
    public long Now { get; private set; } = long.MinValue;

    public static bool IsTwins(uint hash) => hash >> 24 < TwinShare;

    public void Plan(ReadOnlySpan<TimedSegment> packets, ShardPlan plan, long sweepIntervalMicroseconds)
    {
        plan.FirstOrdinal = _ordinal;
        _ordinal += packets.Length;
        plan.Sweeps.Clear();
        var mine = plan.Mine;
        int count = 0;
        long now = Now, nextSweepAt = _nextSweepAt;
        for (int i = 0; i < packets.Length; i++)
        {
            ref readonly var p = ref packets[i];
            long at = p.At;
            if (at > now)
                now = at;
            // The same rule as an unsplit engine's, packet by packet: see AnalysisEngine.Advance.
            if (nextSweepAt == long.MinValue)
                nextSweepAt = at + sweepIntervalMicroseconds;
            else if (at >= nextSweepAt)
            {
                nextSweepAt = at + sweepIntervalMicroseconds;
                plan.Sweeps.Add((i, at));
            }
            // Written every time, kept when it is this shard's: a branch here would be mispredicted every other packet.
            mine[count] = i;
            count += IsTwins(p.Hash) == twin ? 1 : 0;
        }
        Now = now;
        _nextSweepAt = nextSweepAt;
        plan.MineCount = count;
    }
}

/// <summary>
/// A connection a shard finished, with where an unsplit engine would have finished it: in a sweep before the packet
/// <see cref="Position"/> (connections finished together in the order they started), or when that packet reused its
/// 4-tuple (<see cref="Reused"/>). Those still open at the end are not listed: see <see cref="AnalysisEngine.Finish"/>.
/// </summary>
internal readonly record struct FinishedConnection(long Position, bool Reused, long FirstAt, long Serial, ConnectionReport? Report, ConnectionSummary Summary)
{
    /// <summary>Before <paramref name="other"/> in an unsplit engine's order.</summary>
    public bool Precedes(in FinishedConnection other)
    {
        if (Position != other.Position)
            return Position < other.Position;
        if (Reused != other.Reused)
            return !Reused; // the sweep runs before the packet that reuses a 4-tuple
        return FirstAt != other.FirstAt ? FirstAt < other.FirstAt : Serial < other.Serial;
    }

    /// <summary>
    /// Hands the sink, in an unsplit engine's order, the connections both shards finished before the packet of ordinal
    /// <paramref name="bound"/> (both shards must have analysed that far; <see cref="long.MaxValue"/>: all). Each list is
    /// in its shard's order; what was handed over is removed from it, the rest waits for a later bound.
    /// </summary>
    public static void Merge(List<FinishedConnection> own, List<FinishedConnection> twins, long bound, IConnectionSink sink)
    {
        var x = CollectionsMarshal.AsSpan(own);
        var y = CollectionsMarshal.AsSpan(twins);
        int i = 0, j = 0;
        while (true)
        {
            bool mine = i < x.Length && x[i].Position < bound;
            bool theirs = j < y.Length && y[j].Position < bound;
            if (mine && theirs)
            {
                if (x[i].Precedes(y[j]))
                    theirs = false;
                else
                    mine = false;
            }
            if (!mine && !theirs)
                break;
            ref readonly var next = ref mine ? ref x[i++] : ref y[j++];
            if (next.Report is { } report)
                sink.Add(report);
            else
                sink.Count(next.Summary);
        }
        own.RemoveRange(0, i);
        twins.RemoveRange(0, j);
    }
}
