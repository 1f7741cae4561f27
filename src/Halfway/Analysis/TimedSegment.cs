namespace Halfway.Analysis;

/// <summary>A TCP segment with its time (µs) and its 4-tuple's hash (<see cref="Wire.FlowHash.Of"/>), waiting for <see cref="AnalysisEngine"/> in a batch.</summary>
/// <remarks>
/// Fields, not a record: a capture's parser writes the segment straight into its place in the batch. Parsed into a
/// local first and then copied, the copy read the segment's freshly written fields with wider loads than they were
/// stored with, and waited for those stores every time (a store-forwarding stall: most of the parsing thread's time).
/// The time and the hash come first, side by side: a split analysis's planner reads only those of every packet, one
/// cache line a packet instead of two.
/// </remarks>
internal struct TimedSegment
{
    public long At;
    public uint Hash;
    public Wire.TcpSegment Segment;
}
