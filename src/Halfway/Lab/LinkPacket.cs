namespace Halfway.Lab;

/// <summary>
/// One packet the link saw: when, which way, what it did, and its first bytes. <see cref="DropReason"/> is set only
/// for <see cref="LinkAction.Dropped"/>; <see cref="DeliveredAtMicroseconds"/> is -1 unless the packet was delivered.
/// </summary>
internal readonly record struct LinkPacket(
    long SeenAtMicroseconds,
    long DeliveredAtMicroseconds,
    LinkDirection Direction,
    LinkAction Action,
    string? DropReason,
    int Length,
    byte[] Bytes);
