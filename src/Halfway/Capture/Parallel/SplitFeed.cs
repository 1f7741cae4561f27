using Halfway.Analysis;

namespace Halfway.Capture.Parallel;

/// <summary>
/// The calling thread's side of a split analysis (<see cref="SplitEngine"/>): when it pays, and the feed itself, which
/// reads the files on this thread while <see cref="TwinFeed"/> reads them again on a second one.
/// </summary>
internal static class SplitFeed
{
    /// <summary>
    /// Whether splitting the analysis between two threads that each read the files pays (see <see cref="TwinFeed"/>):
    /// a second core, files big enough together, each one a plain file that can be opened twice and read cheaply (a
    /// compressed one would be decompressed twice: those are parsed ahead instead).
    /// </summary>
    public static bool CanReadTwice(IReadOnlyList<string> files)
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
        return total >= CaptureAnalysis.ParseAheadFileLength;
    }

    /// <summary>
    /// Reads the files on this thread and again on a second one (<see cref="TwinFeed"/>); each feeds every packet to
    /// its shard of the split engine. The counts and warnings are this thread's reader's (the other's are the same).
    /// Ends the observation: the flows still open are finished too (the engine's own <see cref="AnalysisEngine.Finish"/>
    /// then finds none), and the engine's counts include the twin's.
    /// </summary>
    public static CaptureReadSummary Feed(IReadOnlyList<Func<CaptureReader>> opens, SplitEngine split, CaptureFilter? filter = null,
        Action<string, long>? progress = null, CancellationToken token = default)
    {
        var results = new List<CaptureReadSummary>();
        FinishedQueue? twinsOpen;
        using (var twin = new TwinFeed(split, opens, filter, token))
        {
            var own = split.Own;
            var batch = new PacketBatch(TwinFeed.BatchLength);
            int batches = 0;
            foreach (var open in opens)
            {
                using var reader = open();
                var parser = new PacketParser(reader, filter);
                while (parser.Fill(batch, token))
                {
                    own.Add(batch.Packets.AsSpan(0, batch.Count));
                    twin.AfterOwnBatch();
                    if ((++batches & 63) == 0)
                        progress?.Invoke(reader.Name, batch.Position);
                }
                results.Add(parser.Summary());
            }
            twinsOpen = twin.End();
        }
        split.Finish(twinsOpen);
        return CaptureAnalysis.Combine(results);
    }
}
