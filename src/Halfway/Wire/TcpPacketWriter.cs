using System.Buffers.Binary;

namespace Halfway.Wire;

/// <summary>Writes an IPv4 or IPv6 packet holding one TCP segment (payload zero-filled): for synthetic captures and tests.</summary>
internal static class TcpPacketWriter
{
    /// <summary>Bytes the packet needs: IP header, 20-byte TCP header, payload.</summary>
    public static int Length(bool v6, int payloadLength) => (v6 ? 40 : 20) + 20 + payloadLength;

    /// <summary>Writes the packet at <paramref name="destination"/>[0] and returns its length. Checksums are left zero.</summary>
    public static int Write(Span<byte> destination, IpEndpoint source, IpEndpoint target, uint sequence, uint acknowledgment,
        TcpFlags flags, int payloadLength, ushort window = 64240, ushort ipId = 0)
    {
        int ipHeader = source.IsV6 ? 40 : 20;
        int total = ipHeader + 20 + payloadLength;
        var packet = destination[..total];
        packet.Clear();
        if (source.IsV6)
        {
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(20 + payloadLength));
            packet[6] = 6;
            packet[7] = 64;
            BinaryPrimitives.WriteUInt128BigEndian(packet[8..], source.Address);
            BinaryPrimitives.WriteUInt128BigEndian(packet[24..], target.Address);
        }
        else
        {
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)total);
            BinaryPrimitives.WriteUInt16BigEndian(packet[4..], ipId);
            packet[6] = 0x40; // don't fragment
            packet[8] = 64;
            packet[9] = 6;
            BinaryPrimitives.WriteUInt32BigEndian(packet[12..], (uint)source.Address);
            BinaryPrimitives.WriteUInt32BigEndian(packet[16..], (uint)target.Address);
        }
        var tcp = packet[ipHeader..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], target.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], acknowledgment);
        tcp[12] = 5 << 4;
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], window);
        return total;
    }
}
