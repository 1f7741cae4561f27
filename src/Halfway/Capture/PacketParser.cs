using System.Buffers.Binary;
using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Capture;

/// <summary>Turns a reader's frames into parsed TCP segments, keeping the counts and warnings of what it skipped.</summary>
internal sealed partial class PacketParser(CaptureReader reader, CaptureFilter? filter)
{
    private long _frames, _tcp, _filtered, _notTcp, _cutShort, _lengthLies;
    private long? _first, _last;

    /// <summary>Fills the batch with the next packets; false when the reader has no more (the batch is then empty).</summary>
    public bool Fill(PacketBatch batch, CancellationToken token)
    {
        var packets = batch.Packets;
        int count = 0;
        // Records in this machine's byte order are read as they lie (see FillPlain).
        bool fast = reader.PcapLinkType == LinkLayer.Ethernet && BitConverter.IsLittleEndian;
        while (count < packets.Length)
        {
            if (fast)
            {
                count = FillPlain(packets, count, token);
                if (count == packets.Length)
                    break;
            }
            if (!reader.ReadNext())
                break;
            if ((++_frames & 0xffff) == 0)
                token.ThrowIfCancellationRequested();
            var frame = reader.Frame;
            int offset = LinkLayer.IpOffset(reader.LinkType, frame);
            if (offset < 0)
            {
                _notTcp++;
                continue;
            }
            var ip = frame[offset..];
            ref var packet = ref packets[count];
            if (!TcpSegment.TryParseIp(ip, out packet.Segment))
            {
                if (IsTcpCutShort(ip) && _cutShort++ == 0)
                    reader.Warn(reader.FrameOffset, "packet cut short: its TCP header is incomplete (such packets are skipped)");
                _notTcp++;
                continue;
            }
            int onWire = reader.OriginalLength - offset;
            int claimed = ClaimedIpLength(ip);
            if (claimed > onWire && onWire > 0)
            {
                // The IP header claims more than the frame carried on the wire: trust the frame for the payload length.
                if (_lengthLies++ == 0)
                    reader.Warn(reader.FrameOffset, $"IP length {claimed} exceeds the {onWire} bytes the frame carried: payload length taken from the frame");
                packet.Segment = packet.Segment with { PayloadLength = Math.Max(0, packet.Segment.PayloadLength - (claimed - onWire)) };
            }
            if (filter is not null && !filter.Matches(packet.Segment))
            {
                _filtered++;
                continue;
            }
            long at = reader.TimestampNanoseconds / 1000;
            _first ??= at;
            _last = at;
            _tcp++;
            packet.At = at;
            packet.Hash = FlowHash.Of(packet.Segment.Source, packet.Segment.Destination);
            count++;
        }
        batch.Count = count;
        batch.Position = reader.Position;
        return count > 0;
    }

    /// <summary>What was read, once the reader is done.</summary>
    public CaptureReadSummary Summary()
    {
        var warnings = reader.Warnings.ToList();
        string where = reader.Compressed ? " (offset in the decompressed data)" : "";
        if (_cutShort > 1)
            warnings.Add(new CaptureWarning(reader.Name, reader.Position, $"{_cutShort} packets in all had an incomplete TCP header{where}"));
        if (_lengthLies > 1)
            warnings.Add(new CaptureWarning(reader.Name, reader.Position, $"{_lengthLies} packets in all claimed an IP length longer than their frame{where}"));
        if (reader.SuppressedWarnings > 0)
            warnings.Add(new CaptureWarning(reader.Name, reader.Position, $"{reader.SuppressedWarnings} more warnings not shown{where}"));
        if (_frames == 0 && reader.UnsupportedOnly is { } linkType)
            throw new HalfwayException($"{reader.Name}: unsupported link type {linkType} ({LinkLayer.Name(linkType)}); supported: Ethernet (with VLAN tags), Linux cooked SLL and SLL2, raw IP, BSD loopback");
        return new CaptureReadSummary(_frames, _tcp, _filtered, _notTcp, warnings, reader.Damaged, _first, _last);
    }

    private static bool IsTcpCutShort(ReadOnlySpan<byte> ip)
    {
        if (ip.Length >= 20 && ip[0] >> 4 == 4)
            return ip[9] == 6 && (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x1fff) == 0;
        if (ip.Length >= 40 && ip[0] >> 4 == 6)
            return ip[6] == 6;
        return false;
    }

    private static int ClaimedIpLength(ReadOnlySpan<byte> ip) =>
        ip[0] >> 4 == 4 ? BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) : 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
}
