using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// A TCP segment seen on the wire. On a lab link, <paramref name="DroppedByLink"/> says the link dropped it
/// (the receiver never saw it), <paramref name="DropReason"/> why it was not delivered (a drop's reason, or that it was
/// still in flight when the lab stopped), and <paramref name="DeliveredAtMicroseconds"/> when it reached the receiver.
/// </summary>
internal sealed record PacketObservation(
    long AtMicroseconds,
    TcpSegment Segment,
    long FrameNumber,
    bool DroppedByLink = false,
    string? DropReason = null,
    long? DeliveredAtMicroseconds = null) : Observation(AtMicroseconds);
