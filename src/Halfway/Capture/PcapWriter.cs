using System.Buffers.Binary;

namespace Halfway.Capture;

/// <summary>
/// Writes a classic pcap file with nanosecond timestamps and link type RAW (101): each record is a bare
/// IPv4 or IPv6 packet, which is what the lab's TUN link carries. Wireshark, tshark and tcpdump read it.
/// </summary>
internal sealed class PcapWriter : IDisposable
{
    /// <summary>Magic of a nanosecond-resolution pcap, written in little-endian order.</summary>
    public const uint NanosecondMagic = 0xa1b23c4d;
    public const uint LinkTypeRaw = 101;
    public const int SnapLength = 262144;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _recordHeader = new byte[16];
    private readonly object _gate = new();

    public PcapWriter(Stream stream, bool leaveOpen = false)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, NanosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeRaw);
        _stream.Write(header);
    }

    public long PacketsWritten { get; private set; }

    /// <summary>
    /// Appends one packet. <paramref name="timestampMicroseconds"/> is absolute (microseconds since the Unix epoch);
    /// <paramref name="originalLength"/> is the packet's length on the wire when <paramref name="ipPacket"/> was cut short.
    /// Safe to call from several threads.
    /// </summary>
    public void Write(long timestampMicroseconds, ReadOnlySpan<byte> ipPacket, int originalLength)
    {
        if (ipPacket.Length > SnapLength)
            ipPacket = ipPacket[..SnapLength];
        long seconds = Math.DivRem(timestampMicroseconds, 1_000_000, out long micros);
        if (micros < 0)
        {
            seconds--;
            micros += 1_000_000;
        }
        lock (_gate)
        {
            var header = _recordHeader.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)seconds);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(micros * 1000));
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)ipPacket.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)Math.Max(originalLength, ipPacket.Length));
            _stream.Write(header);
            _stream.Write(ipPacket);
            PacketsWritten++;
        }
    }

    public void Flush()
    {
        lock (_gate)
            _stream.Flush();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stream.Flush();
            if (!_leaveOpen)
                _stream.Dispose();
        }
    }
}
