using System.Buffers.Binary;
using System.IO.Compression;
using Halfway.Wire;

namespace Halfway.Tests.Capture;

/// <summary>Hand-made capture files: pcap (µs/ns, either byte order) and pcapng (sections, interfaces, EPB/SPB/OPB), and frames per link type.</summary>
internal static class CaptureBytes
{
    public static IpEndpoint V4(string address, ushort port) => IpEndpoint.From(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), port));

    public static byte[] TcpPacket(IpEndpoint from, IpEndpoint to, uint seq, uint ack, TcpFlags flags, int payload = 0)
    {
        var bytes = new byte[TcpPacketWriter.Length(from.IsV6, payload)];
        TcpPacketWriter.Write(bytes, from, to, seq, ack, flags, payload);
        return bytes;
    }

    /// <summary>Wraps an IP packet in the link-layer header of <paramref name="linkType"/>; vlanTags adds 802.1Q tags to Ethernet.</summary>
    public static byte[] Frame(uint linkType, byte[] ip, int vlanTags = 0, bool bigEndianNull = false)
    {
        bool v6 = ip[0] >> 4 == 6;
        ushort etherType = v6 ? (ushort)0x86dd : (ushort)0x0800;
        var header = new List<byte>();
        switch (linkType)
        {
            case 1:
                header.AddRange(new byte[12]);
                for (int i = 0; i < vlanTags; i++)
                {
                    header.AddRange(Be16(i == 0 && vlanTags > 1 ? (ushort)0x88a8 : (ushort)0x8100));
                    header.AddRange(Be16((ushort)(100 + i)));
                }
                header.AddRange(Be16(etherType));
                break;
            case 113:
                header.AddRange(Be16(0)); // packet type
                header.AddRange(Be16(1)); // ARPHRD_ETHER
                header.AddRange(Be16(6));
                header.AddRange(new byte[8]);
                header.AddRange(Be16(etherType));
                break;
            case 276:
                header.AddRange(Be16(etherType));
                header.AddRange(new byte[2]);
                header.AddRange(new byte[4]); // interface index
                header.AddRange(Be16(1));
                header.Add(0);
                header.Add(6);
                header.AddRange(new byte[8]);
                break;
            case 0:
            {
                var family = new byte[4];
                if (bigEndianNull) BinaryPrimitives.WriteUInt32BigEndian(family, v6 ? 24u : 2u);
                else BinaryPrimitives.WriteUInt32LittleEndian(family, v6 ? 30u : 2u);
                header.AddRange(family);
                break;
            }
            case 108:
            {
                var family = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(family, v6 ? 24u : 2u);
                header.AddRange(family);
                break;
            }
        }
        return [.. header, .. ip];
    }

    private static byte[] Be16(ushort value) => [(byte)(value >> 8), (byte)value];

    public sealed record PcapRecord(long Microseconds, byte[] Frame, int? OriginalLength = null);

    public static byte[] Pcap(uint linkType, IEnumerable<PcapRecord> records, bool nanoseconds = false, bool bigEndian = false, int snapLength = 65535)
    {
        var output = new MemoryStream();
        void U32(uint v) { var b = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); output.Write(b); }
        void U16(ushort v) { var b = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); output.Write(b); }
        U32(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
        U16(2); U16(4); U32(0); U32(0); U32((uint)snapLength); U32(linkType);
        foreach (var r in records)
        {
            U32((uint)(r.Microseconds / 1_000_000));
            U32((uint)(r.Microseconds % 1_000_000 * (nanoseconds ? 1000 : 1)));
            U32((uint)r.Frame.Length);
            U32((uint)(r.OriginalLength ?? r.Frame.Length));
            output.Write(r.Frame);
        }
        return output.ToArray();
    }

    /// <summary>Builds pcapng blocks in one byte order.</summary>
    public sealed class PcapNg(bool bigEndian = false)
    {
        private readonly MemoryStream _output = new();

        public PcapNg Section()
        {
            var body = new List<byte>();
            body.AddRange(U32(0x1a2b3c4d));
            body.AddRange(U16(1)); body.AddRange(U16(0));
            body.AddRange(U64(ulong.MaxValue));
            return Block(0x0a0d0d0a, body);
        }

        /// <summary>tsresol: 6 = µs (default), 9 = ns, 0x80 | n = 2^-n.</summary>
        public PcapNg Interface(ushort linkType, byte? tsresol = null, int snapLength = 0)
        {
            var body = new List<byte>();
            body.AddRange(U16(linkType)); body.AddRange(U16(0)); body.AddRange(U32((uint)snapLength));
            if (tsresol is { } r)
            {
                body.AddRange(U16(9)); body.AddRange(U16(1)); body.Add(r); body.AddRange(new byte[3]);
                body.AddRange(U16(0)); body.AddRange(U16(0));
            }
            return Block(1, body);
        }

        public PcapNg Enhanced(int interfaceId, ulong ticks, byte[] frame, int? originalLength = null)
        {
            var body = new List<byte>();
            body.AddRange(U32((uint)interfaceId));
            body.AddRange(U32((uint)(ticks >> 32))); body.AddRange(U32((uint)ticks));
            body.AddRange(U32((uint)frame.Length)); body.AddRange(U32((uint)(originalLength ?? frame.Length)));
            body.AddRange(frame);
            while (body.Count % 4 != 0) body.Add(0);
            return Block(6, body);
        }

        public PcapNg Simple(byte[] frame)
        {
            var body = new List<byte>();
            body.AddRange(U32((uint)frame.Length));
            body.AddRange(frame);
            while (body.Count % 4 != 0) body.Add(0);
            return Block(3, body);
        }

        public PcapNg Obsolete(int interfaceId, ulong ticks, byte[] frame)
        {
            var body = new List<byte>();
            body.AddRange(U16((ushort)interfaceId)); body.AddRange(U16(0));
            body.AddRange(U32((uint)(ticks >> 32))); body.AddRange(U32((uint)ticks));
            body.AddRange(U32((uint)frame.Length)); body.AddRange(U32((uint)frame.Length));
            body.AddRange(frame);
            while (body.Count % 4 != 0) body.Add(0);
            return Block(2, body);
        }

        /// <summary>A block of a type the reader must skip (a name resolution block).</summary>
        public PcapNg Other() => Block(4, [0, 0, 0, 0]);

        public PcapNg Block(uint type, List<byte> body)
        {
            uint length = (uint)(12 + body.Count);
            _output.Write(type == 0x0a0d0d0a ? BitConverter.GetBytes(type) : U32(type));
            _output.Write(U32(length));
            _output.Write(body.ToArray());
            _output.Write(U32(length));
            return this;
        }

        public byte[] ToArray() => _output.ToArray();

        private byte[] U32(uint v) { var b = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
        private byte[] U16(ushort v) { var b = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
        private byte[] U64(ulong v) { var b = new byte[8]; if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
    }

    public static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }
}
