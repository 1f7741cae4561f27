using System.Buffers.Binary;

namespace Halfway.Capture;

/// <summary>Finds the IP packet inside a captured frame for the link types a capture of TCP traffic is likely to have.</summary>
internal static class LinkLayer
{
    public const uint Null = 0;
    public const uint Ethernet = 1;
    public const uint RawOpenBsd = 12;
    public const uint RawBsd = 14;
    public const uint Raw = 101;
    public const uint Loop = 108;
    public const uint LinuxSll = 113;
    public const uint RawIPv4 = 228;
    public const uint RawIPv6 = 229;
    public const uint LinuxSll2 = 276;

    private const ushort EtherTypeIPv4 = 0x0800;
    private const ushort EtherTypeIPv6 = 0x86dd;

    public static bool IsSupported(uint linkType) => linkType is Null or Ethernet or RawOpenBsd or RawBsd or Raw or Loop
        or LinuxSll or RawIPv4 or RawIPv6 or LinuxSll2;

    public static string Name(uint linkType) => linkType switch
    {
        Null => "BSD loopback (NULL)",
        Ethernet => "Ethernet",
        RawOpenBsd or RawBsd or Raw => "raw IP",
        Loop => "OpenBSD loopback (LOOP)",
        LinuxSll => "Linux cooked (SLL)",
        RawIPv4 => "raw IPv4",
        RawIPv6 => "raw IPv6",
        LinuxSll2 => "Linux cooked v2 (SLL2)",
        105 => "IEEE 802.11",
        127 => "802.11 radiotap",
        9 => "PPP",
        _ => "unknown",
    };

    /// <summary>Offset of the IP header in <paramref name="frame"/>, or -1 when the frame carries no IPv4/IPv6 packet.</summary>
    public static int IpOffset(uint linkType, ReadOnlySpan<byte> frame)
    {
        switch (linkType)
        {
            case Ethernet:
                return frame.Length < 14 ? -1 : AfterEtherType(frame, 12);
            case LinuxSll:
                return frame.Length < 16 ? -1 : AfterEtherType(frame, 14);
            case LinuxSll2:
                return frame.Length < 20 ? -1 : AfterEtherType(frame, 0, headerEnd: 20);
            case Raw or RawOpenBsd or RawBsd or RawIPv4 or RawIPv6:
                return IsIpVersion(frame, 0) ? 0 : -1;
            case Null or Loop:
                // The 4-byte address family is in the capturing host's byte order (NULL) or network order (LOOP), and its
                // value for IPv6 differs between BSDs: the IP version nibble is the reliable test.
                return frame.Length >= 5 && IsIpVersion(frame, 4) ? 4 : -1;
            default:
                return -1;
        }
    }

    /// <summary>Reads an EtherType at <paramref name="typeOffset"/>, skipping 802.1Q / 802.1ad / QinQ tags.</summary>
    private static int AfterEtherType(ReadOnlySpan<byte> frame, int typeOffset, int headerEnd = -1)
    {
        int payload = headerEnd < 0 ? typeOffset + 2 : headerEnd;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        for (int tags = 0; type is 0x8100 or 0x88a8 or 0x9100 or 0x9200; tags++)
        {
            if (tags == 4 || frame.Length < payload + 4)
                return -1;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[(payload + 2)..]);
            payload += 4;
        }
        return type switch
        {
            EtherTypeIPv4 when IsIpVersion(frame, payload) => payload,
            EtherTypeIPv6 when IsIpVersion(frame, payload) => payload,
            _ => -1,
        };
    }

    private static bool IsIpVersion(ReadOnlySpan<byte> frame, int offset) =>
        frame.Length > offset && (frame[offset] >> 4) is 4 or 6;
}
