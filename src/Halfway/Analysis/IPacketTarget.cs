using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>Where a capture's TCP segments go, in capture order: one engine, or several on worker threads (<see cref="ShardedAnalysis"/>).</summary>
public interface IPacketTarget
{
    void AddPacket(long atMicroseconds, in TcpSegment segment);
}
