using Halfway.Analysis;

namespace Halfway.Capture.Parallel;

/// <summary>
/// A shard's finished connections waiting to be merged, in order: taken from the front, added at the back. Not a list:
/// taking from a list's front moved everything behind it, and one shard can be up to a few thousand connections ahead.
/// </summary>
internal sealed class FinishedQueue : IPlacedSink
{
    private FinishedConnection[] _items = new FinishedConnection[256];
    private int _head, _tail;

    public int Count => _tail - _head;
    public ReadOnlySpan<FinishedConnection> Pending => _items.AsSpan(_head, _tail - _head);

    public void Add(in FinishPlace place, ConnectionReport? report, in ConnectionSummary summary) =>
        Add(new FinishedConnection(place, report, summary));

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

    /// <summary>
    /// Hands the sink, in one engine's order, the connections both shards finished before the packet of ordinal
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
                bool mine = i < x.Length && x[i].Place.Ordinal < bound;
                bool theirs = j < y.Length && y[j].Place.Ordinal < bound;
                if (mine && theirs)
                {
                    if (x[i].Place.Precedes(y[j].Place))
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
