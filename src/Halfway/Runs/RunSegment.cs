using Halfway.Lab;
using Halfway.Wire;

namespace Halfway.Runs;

/// <summary>A TCP segment the run's capture point saw, with what the link did to it.</summary>
internal readonly record struct RunSegment(LinkPacket Packet, TcpSegment Segment, long Frame)
{
    /// <summary>The client's end of the connection, whichever way the segment went.</summary>
    public IpEndpoint Client => Packet.Direction == LinkDirection.ClientToServer ? Segment.Source : Segment.Destination;
}
