using System.Runtime.CompilerServices;

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

    private SweepClock _clock = SweepClock.New();
    private long _ordinal;
    public long Ordinal => _ordinal;
    public long Now => _clock.Now;

    public static bool IsTwins(uint hash) => hash >> 24 < TwinShare;

    public void Plan(ReadOnlySpan<TimedSegment> packets, ShardPlan plan, long sweepIntervalMicroseconds)
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
            if (clock.Tick(p.At, sweepIntervalMicroseconds))
                plan.Sweeps.Add((i, p.At));
            // Written every time, kept when it is this shard's: a branch here would be mispredicted every other packet.
            mine[count] = i;
            count += IsTwins(p.Hash) == twin ? 1 : 0;
        }
        _clock = clock;
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
    /// <paramref name="bound"/> (both shards must have analysed that far; <see cref="long.MaxValue"/>: all). Each queue is
    /// in its shard's order; what was handed over leaves it, the rest waits for a later bound.
    /// </summary>
    public static void Merge(FinishedQueue own, FinishedQueue twins, long bound, IConnectionSink sink)
    {
        var x = own.Pending;
        var y = twins.Pending;
        int i = 0, j = 0;
        try
        {
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
        }
        finally
        {
            own.Consume(i);
            twins.Consume(j);
        }
    }
}

/// <summary>
/// A shard's finished connections waiting to be merged, in order: taken from the front, added at the back. Not a list:
/// taking from a list's front moved everything behind it, and one shard can be up to a few thousand connections ahead.
/// </summary>
internal sealed class FinishedQueue
{
    private FinishedConnection[] _items = new FinishedConnection[256];
    private int _head, _tail;

    public int Count => _tail - _head;
    public ReadOnlySpan<FinishedConnection> Pending => _items.AsSpan(_head, _tail - _head);

    public void Add(in FinishedConnection item)
    {
        if (_tail == _items.Length)
            MakeRoom(1);
        _items[_tail++] = item;
    }

    /// <summary>Moves every connection of <paramref name="other"/> to the back of this queue.</summary>
    public void TakeAll(FinishedQueue other)
    {
        var items = other.Pending;
        if (_tail + items.Length > _items.Length)
            MakeRoom(items.Length);
        items.CopyTo(_items.AsSpan(_tail));
        _tail += items.Length;
        other.Clear();
    }

    /// <summary>The first <paramref name="count"/> connections have been handed over.</summary>
    public void Consume(int count)
    {
        _head += count;
        if (_head == _tail)
            Clear();
    }

    public void Clear()
    {
        // The reports go with the connections: the sink keeps those it wants.
        Array.Clear(_items, 0, _tail);
        _head = _tail = 0;
    }

    private void MakeRoom(int more)
    {
        int count = Count;
        var items = count + more <= _items.Length / 2 ? _items : new FinishedConnection[Math.Max(_items.Length * 2, count + more)];
        Array.Copy(_items, _head, items, 0, count);
        if (!ReferenceEquals(items, _items))
            _items = items;
        else
            Array.Clear(_items, count, _tail - count);
        _head = 0;
        _tail = count;
    }
}

/// <summary>
/// When an engine sweeps its flows: before the first packet at least the sweep interval after the previous sweep (the
/// first packet starts the clock). An unsplit engine and each shard's planner keep time with it alike.
/// </summary>
internal struct SweepClock
{
    private long _nextSweepAt;
    /// <summary>The latest packet time seen (µs), long.MinValue before the first.</summary>
    public long Now;

    public static SweepClock New() => new() { _nextSweepAt = long.MinValue, Now = long.MinValue };

    public readonly bool Started => _nextSweepAt != long.MinValue;

    /// <summary>A packet at <paramref name="at"/> (µs): true when the flows are to be swept, at that time, before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Tick(long at, long intervalMicroseconds)
    {
        if (at > Now)
            Now = at;
        if (_nextSweepAt == long.MinValue)
        {
            _nextSweepAt = at + intervalMicroseconds;
            return false;
        }
        if (at < _nextSweepAt)
            return false;
        _nextSweepAt = at + intervalMicroseconds;
        return true;
    }
}
