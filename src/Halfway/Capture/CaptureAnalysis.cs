using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Capture;

/// <summary>Feeds the frames of capture files to the analysis engine: link layer, IP/TCP parse, sanity checks, filter.</summary>
public static class CaptureAnalysis
{
    /// <param name="progress">Called now and then with (file, bytes read, file length or 0 when unknown).</param>
    public static CaptureReadSummary Feed(IReadOnlyList<string> files, AnalysisEngine engine, CaptureFilter? filter = null,
        Action<string, long, long>? progress = null, CancellationToken token = default)
    {
        var warnings = new List<CaptureWarning>();
        long frames = 0, tcp = 0, filtered = 0, notTcp = 0;
        long? first = null, last = null;
        bool damaged = false;
        foreach (var file in files)
        {
            using var reader = CaptureReader.Open(file);
            long length = reader.Compressed ? 0 : new FileInfo(file).Length;
            var result = Feed(reader, engine, filter, token, progress is null ? null : position => progress(file, position, length));
            frames += result.Frames;
            tcp += result.TcpPackets;
            filtered += result.FilteredOut;
            notTcp += result.NotTcp;
            first ??= result.FirstTimestampMicroseconds;
            last = result.LastTimestampMicroseconds ?? last;
            damaged |= result.Damaged;
            warnings.AddRange(result.Warnings);
        }
        return new CaptureReadSummary(frames, tcp, filtered, notTcp, warnings, damaged, first, last);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static CaptureReadSummary Feed(CaptureReader reader, AnalysisEngine engine, CaptureFilter? filter = null,
        CancellationToken token = default, Action<long>? progress = null)
    {
        long frames = 0, tcp = 0, filtered = 0, notTcp = 0, cutShort = 0, lengthLies = 0;
        long? first = null, last = null;
        while (reader.ReadNext())
        {
            frames++;
            if ((frames & 0xffff) == 0)
            {
                token.ThrowIfCancellationRequested();
                progress?.Invoke(reader.Position);
            }
            var frame = reader.Frame;
            int offset = LinkLayer.IpOffset(reader.LinkType, frame);
            if (offset < 0)
            {
                notTcp++;
                continue;
            }
            var ip = frame[offset..];
            if (!TcpSegment.TryParseIp(ip, out var segment))
            {
                if (IsTcpCutShort(ip) && cutShort++ == 0)
                    reader.Warn(reader.FrameOffset, "packet cut short: its TCP header is incomplete (such packets are skipped)");
                notTcp++;
                continue;
            }
            int onWire = reader.OriginalLength - offset;
            int claimed = ClaimedIpLength(ip);
            if (claimed > onWire && onWire > 0)
            {
                // The IP header claims more than the frame carried on the wire: trust the frame for the payload length.
                if (lengthLies++ == 0)
                    reader.Warn(reader.FrameOffset, $"IP length {claimed} exceeds the {onWire} bytes the frame carried: payload length taken from the frame");
                segment = segment with { PayloadLength = Math.Max(0, segment.PayloadLength - (claimed - onWire)) };
            }
            if (filter is not null && !filter.Matches(segment))
            {
                filtered++;
                continue;
            }
            long at = reader.TimestampNanoseconds / 1000;
            first ??= at;
            last = at;
            tcp++;
            engine.AddPacket(at, segment);
        }
        var warnings = reader.Warnings.ToList();
        string where = reader.Compressed ? " (offset in the decompressed data)" : "";
        if (cutShort > 1)
            warnings.Add(new CaptureWarning(reader.Name, reader.Position, $"{cutShort} packets in all had an incomplete TCP header{where}"));
        if (lengthLies > 1)
            warnings.Add(new CaptureWarning(reader.Name, reader.Position, $"{lengthLies} packets in all claimed an IP length longer than their frame{where}"));
        if (reader.SuppressedWarnings > 0)
            warnings.Add(new CaptureWarning(reader.Name, reader.Position, $"{reader.SuppressedWarnings} more warnings not shown{where}"));
        if (frames == 0 && reader.UnsupportedOnly is { } linkType)
            throw new HalfwayException($"{reader.Name}: unsupported link type {linkType} ({LinkLayer.Name(linkType)}); supported: Ethernet (with VLAN tags), Linux cooked SLL and SLL2, raw IP, BSD loopback");
        return new CaptureReadSummary(frames, tcp, filtered, notTcp, warnings, reader.Damaged, first, last);
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
