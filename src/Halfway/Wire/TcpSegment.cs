using System.Buffers.Binary;

namespace Halfway.Wire;

/// <summary>The headers of one TCP segment in an IP packet, parsed without allocating.</summary>
internal readonly record struct TcpSegment(
    IpEndpoint Source,
    IpEndpoint Destination,
    uint Sequence,
    uint Acknowledgment,
    TcpFlags Flags,
    ushort Window,
    int PayloadLength)
{
    public bool Has(TcpFlags flag) => (Flags & flag) == flag;

    /// <summary>Sequence space the segment occupies: payload plus one for SYN and for FIN.</summary>
    public uint SequenceLength => (uint)PayloadLength + (Has(TcpFlags.Syn) ? 1u : 0u) + (Has(TcpFlags.Fin) ? 1u : 0u);

    /// <summary>Parses an IPv4 or IPv6 packet that starts at <paramref name="packet"/>[0]. False if it is not TCP or is cut short.</summary>
    public static bool TryParseIp(ReadOnlySpan<byte> packet, out TcpSegment segment)
    {
        segment = default;
        if (packet.Length < 1)
            return false;
        int version = packet[0] >> 4;
        if (version == 4)
        {
            if (packet.Length < 20)
                return false;
            int headerLength = (packet[0] & 0x0f) * 4;
            int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
            if (packet[9] != 6 || headerLength < 20 || totalLength < headerLength)
                return false;
            // A fragment other than the first has no TCP header.
            if ((BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1fff) != 0)
                return false;
            int ipPayload = Math.Min(totalLength, packet.Length) - headerLength;
            if (ipPayload < 20)
                return false;
            return TryParseTcp(packet.Slice(headerLength, ipPayload), totalLength - headerLength,
                0, 0xffffUL << 32 | BinaryPrimitives.ReadUInt32BigEndian(packet[12..]),
                0, 0xffffUL << 32 | BinaryPrimitives.ReadUInt32BigEndian(packet[16..]), false, out segment);
        }
        if (version == 6)
        {
            if (packet.Length < 40)
                return false;
            int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
            int next = packet[6], offset = 40;
            // Follow hop-by-hop, routing and destination options headers, and the first fragment of a fragmented packet.
            for (int hops = 0; next != 6; hops++)
            {
                if (hops == 8 || packet.Length < offset + 8)
                    return false;
                if (next == 44)
                {
                    if ((BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]) & 0xfff8) != 0)
                        return false; // not the first fragment: no TCP header
                    next = packet[offset];
                    offset += 8;
                }
                else if (next is 0 or 43 or 60)
                {
                    next = packet[offset];
                    offset += (packet[offset + 1] + 1) * 8;
                }
                else
                    return false;
            }
            int claimed = 40 + payloadLength - offset;
            int available = Math.Min(claimed, packet.Length - offset);
            if (available < 20)
                return false;
            return TryParseTcp(packet.Slice(offset, available), claimed,
                BinaryPrimitives.ReadUInt64BigEndian(packet[8..]), BinaryPrimitives.ReadUInt64BigEndian(packet[16..]),
                BinaryPrimitives.ReadUInt64BigEndian(packet[24..]), BinaryPrimitives.ReadUInt64BigEndian(packet[32..]), true, out segment);
        }
        return false;
    }

    // The addresses come as 64-bit halves, not as endpoints built first and copied with their port: that copy stalled on
    // the endpoint's just-written fields (a store-forwarding stall) and was a fifth of the parsing thread's time.
    private static bool TryParseTcp(ReadOnlySpan<byte> tcp, int claimedLength, ulong sourceHigh, ulong sourceLow,
        ulong destinationHigh, ulong destinationLow, bool isV6, out TcpSegment segment)
    {
        segment = default;
        int dataOffset = (tcp[12] >> 4) * 4;
        if (dataOffset < 20 || dataOffset > claimedLength)
            return false;
        segment = new TcpSegment(
            new IpEndpoint(sourceHigh, sourceLow, BinaryPrimitives.ReadUInt16BigEndian(tcp), isV6),
            new IpEndpoint(destinationHigh, destinationLow, BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]), isV6),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]),
            (TcpFlags)tcp[13],
            BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]),
            claimedLength - dataOffset);
        return true;
    }
}
