using System.Buffers.Binary;
using System.Text;

namespace Halfway.Capture;

/// <summary>
/// Writes a pcapng file of one interface with link type RAW (101) and microsecond timestamps: each packet is a bare
/// IPv4 or IPv6 packet in an Enhanced Packet Block. Unlike classic pcap, a packet can carry a comment (opt_comment)
/// and flags (epb_flags): the lab writes there what its link did to the packet, so Wireshark shows a dropped final
/// ACK as dropped instead of as one more delivered packet. Wireshark, tshark and tcpdump (libpcap ≥ 1.1) read it.
/// </summary>
internal sealed class PcapngWriter : IDisposable
{
    public const uint LinkTypeRaw = 101;
    public const int SnapLength = 262144;

    private const uint SectionHeaderType = 0x0a0d0d0a;
    private const uint InterfaceDescriptionType = 1;
    private const uint EnhancedPacketType = 6;
    private const uint ByteOrderMagic = 0x1a2b3c4d;
    private const ushort OptionEnd = 0;
    private const ushort OptionComment = 1;
    private const ushort OptionFlags = 2;
    private const ushort ShbUserApplication = 4;
    private const ushort IfName = 2;
    private const ushort IfDescription = 3;
    private const ushort IfTimestampResolution = 9;
    /// <summary>10^-6 s: the lab's clock counts microseconds, so finer units would only add zeros.</summary>
    private const byte MicrosecondResolution = 6;
    /// <summary>An option's value is at most 65535 bytes; a longer comment is cut (on a character boundary).</summary>
    private const int MaxOptionValue = 65535;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly int _snapLength;
    /// <summary>The block being built: its total length leads it, so it is written whole once known.</summary>
    private byte[] _block = new byte[4096];
    private int _length;

    /// <summary>
    /// Starts the file: a section header and one interface, with a name and a description if given. Packets are cut to
    /// <paramref name="snapLength"/> bytes, which the interface declares, so readers know a short packet was cut on purpose.
    /// </summary>
    public PcapngWriter(Stream stream, string? interfaceName = null, string? interfaceDescription = null, int snapLength = SnapLength, bool leaveOpen = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _snapLength = Math.Min(snapLength, SnapLength);

        Begin(SectionHeaderType);
        AppendU32(ByteOrderMagic);
        AppendU16(1); // version 1.0
        AppendU16(0);
        AppendU64(ulong.MaxValue); // section length unknown: the file is written as a stream
        AppendOption(ShbUserApplication, "halfway");
        AppendU32(OptionEnd);
        End();

        Begin(InterfaceDescriptionType);
        AppendU16((ushort)LinkTypeRaw);
        AppendU16(0); // reserved
        AppendU32((uint)_snapLength);
        if (interfaceName is not null)
            AppendOption(IfName, interfaceName);
        if (interfaceDescription is not null)
            AppendOption(IfDescription, interfaceDescription);
        AppendOption(IfTimestampResolution, [MicrosecondResolution]);
        AppendU32(OptionEnd);
        End();
    }

    public long PacketsWritten { get; private set; }

    /// <summary>
    /// Appends one packet. <paramref name="timestampMicroseconds"/> is absolute (microseconds since the Unix epoch);
    /// <paramref name="originalLength"/> is the packet's length on the wire when <paramref name="ipPacket"/> was cut short.
    /// <paramref name="comment"/> (shown by Wireshark as the packet's comment) and <paramref name="flags"/> are left out when null.
    /// </summary>
    public void Write(long timestampMicroseconds, ReadOnlySpan<byte> ipPacket, int originalLength, string? comment = null, PcapngPacketFlags? flags = null)
    {
        if (ipPacket.Length > _snapLength)
            ipPacket = ipPacket[.._snapLength];
        ulong timestamp = (ulong)Math.Max(0, timestampMicroseconds);
        Begin(EnhancedPacketType);
        AppendU32(0); // interface 0, the only one
        AppendU32((uint)(timestamp >> 32));
        AppendU32((uint)timestamp);
        AppendU32((uint)ipPacket.Length);
        AppendU32((uint)Math.Max(originalLength, ipPacket.Length));
        AppendPadded(ipPacket);
        if (comment is not null || flags is not null)
        {
            if (comment is not null)
                AppendOption(OptionComment, comment);
            if (flags is { } f)
            {
                Span<byte> value = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)f);
                AppendOption(OptionFlags, value);
            }
            AppendU32(OptionEnd);
        }
        End();
        PacketsWritten++;
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        _stream.Flush();
        if (!_leaveOpen)
            _stream.Dispose();
    }

    private void Begin(uint type)
    {
        _length = 0;
        AppendU32(type);
        AppendU32(0); // the total length, known at End
    }

    private void End()
    {
        int total = _length + 4;
        AppendU32((uint)total);
        BinaryPrimitives.WriteUInt32LittleEndian(_block.AsSpan(4), (uint)total);
        _stream.Write(_block, 0, _length);
    }

    private Span<byte> Grow(int count)
    {
        if (_length + count > _block.Length)
            Array.Resize(ref _block, Math.Max(_block.Length * 2, _length + count));
        var span = _block.AsSpan(_length, count);
        _length += count;
        return span;
    }

    private void AppendU16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), value);

    private void AppendU32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);

    private void AppendU64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), value);

    /// <summary>Appends the bytes and zeros up to the next multiple of 4, as every pcapng field of variable length is padded.</summary>
    private void AppendPadded(ReadOnlySpan<byte> bytes)
    {
        var span = Grow((bytes.Length + 3) & ~3);
        bytes.CopyTo(span);
        span[bytes.Length..].Clear();
    }

    private void AppendOption(ushort code, string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        int length = utf8.Length;
        if (length > MaxOptionValue)
        {
            length = MaxOptionValue;
            while (length > 0 && (utf8[length] & 0xc0) == 0x80) // not inside a multi-byte character
                length--;
        }
        AppendOption(code, utf8.AsSpan(0, length));
    }

    private void AppendOption(ushort code, ReadOnlySpan<byte> value)
    {
        AppendU16(code);
        AppendU16((ushort)value.Length);
        AppendPadded(value);
    }
}
