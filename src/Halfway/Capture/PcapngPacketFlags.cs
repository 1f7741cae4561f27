namespace Halfway.Capture;

/// <summary>
/// The bits of a pcapng packet's epb_flags option that the lab can fill: the direction (bits 0-1). pcapng has no bit
/// for "dropped on purpose"; that goes in the packet's comment.
/// </summary>
[Flags]
internal enum PcapngPacketFlags : uint
{
    None = 0,
    Inbound = 1,
    Outbound = 2,
}
