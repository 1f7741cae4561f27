namespace Halfway.Native;

/// <summary>Handles one kernel message of a netlink reply: its type and its payload after the header.</summary>
internal delegate void NetlinkMessageHandler(ushort type, ReadOnlySpan<byte> payload);
