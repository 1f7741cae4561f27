namespace Halfway.Analysis;

/// <summary>
/// Hands out the event storage of new flows as segments of large shared arrays. A busy capture creates tens of thousands
/// of flows: with an event array each (and a second, bigger one when the first filled up), those arrays were most of what
/// the engine allocated, all of it fresh memory that the GC then copied from generation to generation. Slabs are allocated
/// once, never move (large object heap) and hold no references for the GC to scan.
/// </summary>
/// <remarks>
/// A flow starts with <see cref="SmallSegment"/> events (a handshake that goes nowhere needs 3) and moves to a
/// <see cref="LargeSegment"/> one when it needs more (an ordinary connection needs 10 to 12), then to an array of its own.
/// Segments left behind are reused: flows are recycled with theirs, so the slabs grow with the most flows open at once.
/// </remarks>
internal sealed class EventSlabs
{
    public const int SmallSegment = 8;
    public const int LargeSegment = 16;
    /// <summary>Events per slab: 16384 × 16 bytes = 256 KiB.</summary>
    private const int SlabLength = 16384;

    private ConnectionEvent[] _slab = [];
    private int _used = SlabLength;
    private readonly Stack<(ConnectionEvent[] Slab, int Start)> _freeSmall = new();
    private readonly Stack<(ConnectionEvent[] Slab, int Start)> _freeLarge = new();

    /// <summary>A segment of <paramref name="length"/> (<see cref="SmallSegment"/> or <see cref="LargeSegment"/>) events: the slab that holds it, and its first index in <paramref name="start"/>.</summary>
    public ConnectionEvent[] Take(int length, out int start)
    {
        var free = length == SmallSegment ? _freeSmall : _freeLarge;
        if (free.TryPop(out var segment))
        {
            start = segment.Start;
            return segment.Slab;
        }
        if (_used + length > SlabLength)
        {
            // Uninitialized: a flow reads only the events it wrote.
            _slab = GC.AllocateUninitializedArray<ConnectionEvent>(SlabLength);
            _used = 0;
        }
        start = _used;
        _used += length;
        return _slab;
    }

    /// <summary>A segment no flow uses any more.</summary>
    public void GiveBack(ConnectionEvent[] slab, int start, int length) =>
        (length == SmallSegment ? _freeSmall : _freeLarge).Push((slab, start));
}
