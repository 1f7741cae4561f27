using System.Buffers.Binary;
using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Capture;

/// <summary>
/// Feeds the frames of capture files to the analysis engine: link layer, IP/TCP parse, sanity checks, filter. Big plain
/// files are read by two threads, each analysing half the flows (see <see cref="FeedSplit"/>); big compressed ones are
/// parsed on a thread of their own while the calling thread analyses (see <see cref="ParseAhead"/>).
/// </summary>
public static class CaptureAnalysis
{
    /// <summary>Files at least this big are read on a second thread too (when there is a second CPU): for small ones starting it costs more than it saves.</summary>
    internal const long ParseAheadFileLength = 8 << 20;

    /// <param name="progress">Called now and then with (file, bytes read, file length or 0 when unknown).</param>
    public static CaptureReadSummary Feed(IReadOnlyList<string> files, AnalysisEngine engine, CaptureFilter? filter = null,
        Action<string, long, long>? progress = null, CancellationToken token = default)
    {
        if (engine.IsSplit || CanReadTwice(files) && engine.SplitIntoShards())
        {
            // Each file is read up to the length it has now, by both threads: a capture still being written gives both the same bytes.
            var lengths = files.Distinct().ToDictionary(f => f, f => new FileInfo(f).Length);
            var opens = files.Select(f => (Func<CaptureReader>)(() => CaptureReader.Open(f, lengths[f]))).ToList();
            Action<string, long>? fileProgress = progress is null ? null : (name, position) => progress(name, position, lengths[name]);
            return FeedSplit(opens, engine, filter, fileProgress, token);
        }
        var results = new List<CaptureReadSummary>();
        foreach (var file in files)
        {
            using var reader = CaptureReader.Open(file);
            long onDisk = new FileInfo(file).Length;
            long length = reader.Compressed ? 0 : onDisk;
            results.Add(Feed(reader, engine, filter, token, progress is null ? null : position => progress(file, position, length),
                parseAhead: onDisk >= ParseAheadFileLength && Environment.ProcessorCount >= 2));
        }
        return Combine(results);
    }

    /// <summary>
    /// Whether splitting the analysis between two threads that each read the files pays (see <see cref="TwinFeed"/>):
    /// a second core, files big enough together, each one a plain file that can be opened twice and read cheaply (a
    /// compressed one would be decompressed twice: those are parsed ahead instead).
    /// </summary>
    private static bool CanReadTwice(IReadOnlyList<string> files)
    {
        if (Environment.ProcessorCount < 2 || files.Count == 0)
            return false;
        long total = 0;
        var magic = new byte[2];
        foreach (var file in files)
        {
            try
            {
                // A pipe, a device or /proc reports no length: it is not opened here (opening a named pipe takes its writer).
                var info = new FileInfo(file);
                if (!info.Exists || info.Length == 0)
                    return false;
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                if (!stream.CanSeek || CaptureReader.IsGzip(magic.AsSpan(0, stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false))))
                    return false;
                total += info.Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return false; // opened the usual way, the error is reported there
            }
        }
        return total >= ParseAheadFileLength;
    }

    /// <summary>
    /// Reads the files on this thread and again on a second one (<see cref="TwinFeed"/>); each feeds every packet to
    /// its shard of the split engine. The counts and warnings are this thread's reader's (the other's are the same).
    /// </summary>
    internal static CaptureReadSummary FeedSplit(IReadOnlyList<Func<CaptureReader>> opens, AnalysisEngine engine, CaptureFilter? filter = null,
        Action<string, long>? progress = null, CancellationToken token = default)
    {
        if (!engine.SplitIntoShards())
            throw new InvalidOperationException("the engine has already analysed packets: it cannot be split");
        var results = new List<CaptureReadSummary>();
        using var twin = new TwinFeed(engine, opens, filter, token);
        var batch = new PacketBatch(TwinFeed.BatchLength);
        var plan = new ShardPlan(TwinFeed.BatchLength);
        var finished = new FinishedQueue();
        int batches = 0;
        foreach (var open in opens)
        {
            using var reader = open();
            var parser = new PacketParser(reader, filter);
            while (parser.Fill(batch, token))
            {
                engine.AddShardBatch(batch.Packets.AsSpan(0, batch.Count), plan, finished);
                twin.AfterOwnBatch(finished, engine.ShardOrdinal);
                if ((++batches & 63) == 0)
                    progress?.Invoke(reader.Name, batch.Position);
            }
            results.Add(parser.Summary());
        }
        twin.End(finished);
        return Combine(results);
    }

    private static CaptureReadSummary Combine(List<CaptureReadSummary> results)
    {
        var warnings = new List<CaptureWarning>();
        long frames = 0, tcp = 0, filtered = 0, notTcp = 0;
        long? first = null, last = null;
        bool damaged = false;
        foreach (var result in results)
        {
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

    /// <param name="parseAhead">Parse on a second thread while this one analyses; the result is the same either way.</param>
    public static CaptureReadSummary Feed(CaptureReader reader, AnalysisEngine engine, CaptureFilter? filter = null,
        CancellationToken token = default, Action<long>? progress = null, bool parseAhead = false)
    {
        var parser = new PacketParser(reader, filter);
        int batches = 0;
        if (parseAhead)
        {
            using var ahead = new ParseAhead(parser, token);
            while (ahead.Next() is { } batch)
            {
                engine.AddPackets(batch.Packets.AsSpan(0, batch.Count));
                if ((++batches & 15) == 0)
                    progress?.Invoke(batch.Position);
                ahead.Return(batch);
            }
        }
        else
        {
            var batch = new PacketBatch(PacketBatch.SmallLength);
            while (parser.Fill(batch, token))
            {
                engine.AddPackets(batch.Packets.AsSpan(0, batch.Count));
                if ((++batches & 15) == 0)
                    progress?.Invoke(batch.Position);
            }
        }
        return parser.Summary();
    }
}

/// <summary>Parsed packets handed to the engine together.</summary>
internal sealed class PacketBatch(int length)
{
    public const int SmallLength = 256;
    public readonly TimedSegment[] Packets = new TimedSegment[length];
    public int Count;
    /// <summary>The reader's position after the batch's last frame.</summary>
    public long Position;
}

/// <summary>Turns a reader's frames into parsed TCP segments, keeping the counts and warnings of what it skipped.</summary>
internal sealed class PacketParser(CaptureReader reader, CaptureFilter? filter)
{
    private long _frames, _tcp, _filtered, _notTcp, _cutShort, _lengthLies;
    private long? _first, _last;

    /// <summary>Fills the batch with the next packets; false when the reader has no more (the batch is then empty).</summary>
    public bool Fill(PacketBatch batch, CancellationToken token)
    {
        var packets = batch.Packets;
        int count = 0;
        while (count < packets.Length && reader.ReadNext())
        {
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
            if (!Wire.TcpSegment.TryParseIp(ip, out packet.Segment))
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
