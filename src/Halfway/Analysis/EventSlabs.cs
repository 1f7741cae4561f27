namespace Halfway.Analysis;

/// <summary>
/// Hands out the event storage of new flows as fixed segments of large shared arrays. A busy capture creates tens of
/// thousands of flows: with an event array each (and a second, bigger one when the first filled up), those arrays were
/// most of what the engine allocated, all of it fresh memory that the GC then copied from generation to generation. Slabs
/// are allocated once, never move (large object heap) and hold no references for the GC to scan. Flows are recycled with
/// their segment, so the slabs grow with the most flows open at once, as the flows do.
/// </summary>
internal sealed class EventSlabs
{
    /// <summary>Events per flow in a slab: an ordinary connection (handshake, data, close) needs 10 to 12.</summary>
    public const int SegmentLength = 16;
    /// <summary>Segments per slab: 1024 × 16 events × 24 bytes = 384 KiB.</summary>
    private const int SegmentsPerSlab = 1024;

    private ConnectionEvent[] _slab = [];
    private int _nextSegment = SegmentsPerSlab;

    /// <summary>A fresh segment: the slab that holds it, and the segment's first index in <paramref name="start"/>.</summary>
    public ConnectionEvent[] Take(out int start)
    {
        if (_nextSegment == SegmentsPerSlab)
        {
            // Uninitialized: a flow reads only the events it wrote.
            _slab = GC.AllocateUninitializedArray<ConnectionEvent>(SegmentsPerSlab * SegmentLength);
            _nextSegment = 0;
        }
        start = _nextSegment++ * SegmentLength;
        return _slab;
    }
}
