using Halfway.Analysis;

namespace Halfway.Capture;

/// <summary>Parsed packets handed to the engine together.</summary>
internal sealed class PacketBatch(int length)
{
    public const int SmallLength = 256;
    public readonly TimedSegment[] Packets = new TimedSegment[length];
    public int Count;
    /// <summary>The reader's position after the batch's last frame.</summary>
    public long Position;
}
