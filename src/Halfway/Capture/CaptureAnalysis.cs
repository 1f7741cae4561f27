using System.Buffers.Binary;
using Halfway.Analysis;
using Halfway.Capture.Parallel;
using Halfway.Native;

namespace Halfway.Capture;

/// <summary>
/// Feeds the frames of capture files to the analysis engine: link layer, IP/TCP parse, sanity checks, filter. Big plain
/// files are read by two threads, each analysing half the flows (see <see cref="SplitEngine"/>); big compressed ones are
/// parsed on a thread of their own while the calling thread analyses (see <see cref="ParseAhead"/>).
/// </summary>
internal static class CaptureAnalysis
{
    /// <summary>Files at least this big are read on a second thread too (when there is a second CPU): for small ones starting it costs more than it saves.</summary>
    internal const long ParseAheadFileLength = 8 << 20;

    /// <param name="progress">Called now and then with (file, bytes read, file length or 0 when unknown).</param>
    public static CaptureReadSummary Feed(IReadOnlyList<string> files, AnalysisEngine engine, CaptureFilter? filter = null,
        Action<string, long, long>? progress = null, CancellationToken token = default)
    {
        if (SplitFeed.CanReadTwice(files) && SplitEngine.TrySplit(engine) is { } split)
        {
            // Each file is read up to the length it has now, by both threads: a capture still being written gives both the same bytes.
            var lengths = files.Distinct().ToDictionary(f => f, f => new FileInfo(f).Length);
            // Both threads read the same mapping of each file (when it can be mapped): the page cache's pages, not a copy each.
            var mappings = lengths.ToDictionary(file => file.Key, file => Settled(file.Key) ? MappedFile.TryMap(file.Key, file.Value) : null);
            try
            {
                var opens = files.Select(f => (Func<CaptureReader>)(() => CaptureReader.Open(f, lengths[f], mappings[f]))).ToList();
                Action<string, long>? fileProgress = progress is null ? null : (name, position) => progress(name, position, lengths[name]);
                return SplitFeed.Feed(opens, split, filter, fileProgress, token);
            }
            finally
            {
                // Both threads are done with them: SplitFeed waits for the second one, also when it throws.
                foreach (var mapping in mappings.Values)
                    mapping?.Dispose();
            }
        }
        var results = new List<CaptureReadSummary>();
        foreach (var file in files)
        {
            using var reader = CaptureReader.Open(file);
            long onDisk = file == CaptureReader.StandardInputName ? 0 : new FileInfo(file).Length; // a pipe's is 0: read on one thread
            long length = reader.Compressed ? 0 : onDisk;
            results.Add(Feed(reader, engine, filter, token, progress is null ? null : position => progress(file, position, length),
                parseAhead: onDisk >= ParseAheadFileLength && Environment.ProcessorCount >= 2));
        }
        return Combine(results);
    }

    /// <summary>A file is mapped only when nothing has written to it for this long.</summary>
    internal static readonly TimeSpan SettledAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether nothing has written to the file lately. A mapped file that is cut shorter while it is read ends the process
    /// (SIGBUS), where a read only comes up short: a writer that starts over on the same file (`tcpdump -w` run again)
    /// does that. A file written to lately may still have its writer, and is read.
    /// </summary>
    private static bool Settled(string file)
    {
        try
        {
            return DateTime.UtcNow - File.GetLastWriteTimeUtc(file) >= SettledAfter;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    internal static CaptureReadSummary Combine(List<CaptureReadSummary> results)
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
