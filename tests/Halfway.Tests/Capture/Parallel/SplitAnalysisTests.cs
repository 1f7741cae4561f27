using CsCheck;
using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Capture.Parallel;
using Halfway.Tests.Analysis;

namespace Halfway.Tests.Capture.Parallel;

/// <summary>
/// A split analysis (two threads each reading the capture, each shard analysing half the flows) must hand the sink
/// exactly what one engine would, in the same order: every connection, fate, kind and count. Errors and cancellation
/// reach the caller, and the second thread ends.
/// </summary>
/// <remarks>In the serial collection: the tests count the process's twin threads.</remarks>
[Collection(LabCollection.Name)]
public sealed class SplitAnalysisTests
{
    /// <summary>Every call the engine made on its sink, in order, with what each connection was.</summary>
    private sealed class RecordingSink(bool slow = false) : IConnectionSink
    {
        public readonly List<string> Calls = [];
        // A slow sink holds the calling thread back, so that the twin runs ahead (as far as it may) and its connections wait.
        private void Record(string call)
        {
            Calls.Add(call);
            if (slow && Calls.Count % 100 == 0)
                Thread.Sleep(1);
        }

        // Like explain's report: plainly accepted connections are only counted. Called from both threads: no state.
        public bool WantsReport(in ConnectionSummary summary) => summary.Fate != Fate.Accepted || summary.HalfEstablished;
        public void Add(ConnectionReport r) =>
            Record($"report {r.Client} {r.FateName} {r.Kind} {r.FirstSeenAtMicroseconds} {r.LastSeenAtMicroseconds} {r.Packets} {r.DuplicatesIgnored} {string.Join(",", r.Evidence.Select(e => e.Kind))}");
        public void Count(in ConnectionSummary s) => Record($"count {s.Client} {FateNames.Name(s.Fate)} {s.Kind} {s.Handshake}");
    }

    /// <summary>Splits a fresh engine and feeds it the files.</summary>
    private static CaptureReadSummary FeedSplit(IReadOnlyList<Func<CaptureReader>> opens, AnalysisEngine engine, CancellationToken token = default) =>
        SplitFeed.Feed(opens, SplitEngine.TrySplit(engine) ?? throw new InvalidOperationException("not split"), token: token);

    /// <summary>The files analysed one after the other by one engine on this thread, or split (then also the twin's engine).</summary>
    private static (List<string> Calls, AnalysisEngine Engine, CaptureReadSummary? Read, AnalysisEngine? Twin) Analyse(IReadOnlyList<byte[]> files, bool split,
        CancellationToken token = default, bool slowSink = false)
    {
        var sink = new RecordingSink(slowSink);
        var engine = new AnalysisEngine(new AnalysisContext(), sink);
        CaptureReadSummary? read = null;
        AnalysisEngine? twin = null;
        if (split)
        {
            var shards = SplitEngine.TrySplit(engine) ?? throw new InvalidOperationException("not split");
            twin = shards.Twin.Engine;
            read = SplitFeed.Feed(files.Select((bytes, i) => (Func<CaptureReader>)(() => new CaptureReader(new MemoryStream(bytes), $"file{i}.pcap"))).ToList(),
                shards, token: token);
        }
        else
            for (int i = 0; i < files.Count; i++)
                using (var reader = new CaptureReader(new MemoryStream(files[i]), $"file{i}.pcap"))
                    read = CaptureAnalysis.Feed(reader, engine, token: token); // the summary of the last file only
        engine.Finish();
        return (sink.Calls, engine, read, twin);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_split_analysis_hands_over_the_same_connections_in_the_same_order(bool slowSink)
    {
        var packets = BusyTraffic.Packets(9000); // ~60,000 packets: ~60 batches a thread, ~1.2 s of capture, 15 s with the stragglers
        var bytes = BusyTraffic.Capture(packets);
        var (single, one, _, _) = Analyse([bytes], split: false);
        var (split, engine, read, twin) = Analyse([bytes], split: true, slowSink: slowSink);
        // Both shards had their share of the work, and every packet was counted once.
        Assert.InRange(twin!.PacketsAnalysed, packets.Count / 3, packets.Count * 2 / 3);
        Assert.Equal(one.PacketsAnalysed, engine.PacketsAnalysed);
        Assert.Equal(one.StragglersIgnored, engine.StragglersIgnored);
        Assert.True(one.StragglersIgnored >= 750, $"{one.StragglersIgnored} stragglers ignored");
        Assert.Equal(packets.Count, read!.TcpPackets);
        Assert.Equal(single.Count, split.Count);
        Assert.Equal(single, split);
        foreach (var expected in new[] { "report", "count", " accepted ", " accepted-late ", " reset-on-data ", " refused ", " syn-dropped ", " handshake-incomplete ", " unknown " })
            Assert.True(single.Any(c => c.Contains(expected)), expected);
    }

    [Fact]
    public void Counts_a_shard_adds_up_itself_once_the_handshake_samples_are_complete_give_the_same_report()
    {
        // Two listeners, the second with only plainly accepted connections; a sample bound of 300 handshakes, reached
        // early, after which the shards add up their plain connections themselves.
        var packets = BusyTraffic.Packets(6000);
        for (int i = 0; i < 3000; i++)
        {
            double t = i * 0.0008 + 0.0002;
            packets.AddRange(new Conversation($"10.9.{i / 250}.{i % 250 + 1}:{20000 + i}", "10.0.0.9:443", clientIsn: (uint)(3000 + i), serverIsn: (uint)(70_000 + i))
                .Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 100).ServerAck(t + 0.012).ClientFin(t + 0.02).ServerFin(t + 0.021).Ack(t + 0.03).Packets);
        }
        var bytes = BusyTraffic.Capture(packets.OrderBy(p => p.Microseconds));

        string Describe(bool split)
        {
            var report = new ExplainReport(maxGapSamples: 300);
            var engine = new AnalysisEngine(new AnalysisContext(), report);
            using (var reader = new CaptureReader(new MemoryStream(bytes), "busy.pcap"))
            {
                if (split)
                    FeedSplit([() => new CaptureReader(new MemoryStream(bytes), "busy.pcap")], engine);
                else
                    CaptureAnalysis.Feed(reader, engine);
            }
            engine.Finish();
            Assert.Equal(split, report.TalliesAdded > 0);
            var listeners = report.Listeners.Select(l =>
                $"{l.Server} {l.Connections} {l.HalfEstablished} {l.RequestSocketKind} {l.SyncookieKind} {l.Certain} {l.Likely} {l.CompletedByDataWithoutResend} {l.LateFirstResend} " +
                $"{l.FirstHalfEstablishedAtMicroseconds} {l.LastHalfEstablishedAtMicroseconds} {string.Join(",", l.ByFate)}");
            return string.Join("\n", [$"{report.Connections} {report.HalfEstablished} {report.NotKept} {report.HandshakesUsed} {report.HandshakesLeftOut} {report.VantagePoint()}",
                .. listeners, .. report.Kept.Select(r => $"{r.Client} {r.FateName} {r.Kind}")]);
        }

        string single = Describe(split: false);
        Assert.Contains("10.0.0.9:443 3000 0", single);
        Assert.Equal(single, Describe(split: true));
    }

    [Fact]
    public void A_split_analysis_over_two_files_is_one_observation()
    {
        var packets = BusyTraffic.Packets(4000);
        int cut = packets.Count * 2 / 5;
        var files = new[] { BusyTraffic.Capture(packets.Take(cut)), BusyTraffic.Capture(packets.Skip(cut)) };
        var (single, _, _, _) = Analyse(files, split: false);
        var (split, engine, read, _) = Analyse(files, split: true);
        Assert.Equal(single, split);
        Assert.Equal(packets.Count, engine.PacketsAnalysed);
        Assert.Equal(packets.Count, read!.TcpPackets);
    }

    [Fact]
    public void A_damaged_capture_gives_the_same_warnings_and_connections_either_way()
    {
        var whole = BusyTraffic.Capture(BusyTraffic.Packets(3000));
        var cut = whole.AsSpan(0, whole.Length * 2 / 3 + 7).ToArray(); // ends inside a record
        var (single, _, _, _) = Analyse([cut], split: false);
        var (split, _, read, _) = Analyse([cut], split: true);
        Assert.Equal(single, split);
        Assert.True(read!.Damaged);
        Assert.Contains(read.Warnings, w => w.Message.Contains("truncated"));
    }

    [Fact]
    public void Mutated_captures_give_the_same_connections_and_warnings_split_or_not()
    {
        var original = BusyTraffic.Capture(BusyTraffic.Packets(600)); // ~4,000 packets: several batches a thread
        int compared = 0;
        FuzzTests.Mutation.Array[1, 6].Sample(mutations =>
        {
            var bytes = FuzzTests.Mutate(original, mutations);
            string? rejectedOne = null, rejectedSplit = null;
            (List<string> Calls, AnalysisEngine Engine, CaptureReadSummary? Read, AnalysisEngine? Twin)? one = null, split = null;
            try { one = Analyse([bytes], split: false); } catch (HalfwayException e) { rejectedOne = e.Message; }
            try { split = Analyse([bytes], split: true); } catch (HalfwayException e) { rejectedSplit = e.Message; }
            Assert.Equal(rejectedOne, rejectedSplit);
            if (one is { } a && split is { } b)
            {
                Assert.Equal(a.Calls, b.Calls);
                Assert.Equal(a.Read!.Warnings, b.Read!.Warnings);
                Assert.Equal(a.Read.TcpPackets, b.Read.TcpPackets);
                compared++;
            }
        }, iter: 300, threads: 1);
        Assert.True(compared > 150, $"only {compared} of 300 mutated captures could be read");
        Assert.Equal(0, TwinFeed.Running);
    }

    [Fact]
    public void An_exception_in_the_sink_reaches_the_caller_and_the_twin_thread_ends()
    {
        var bytes = BusyTraffic.Capture(BusyTraffic.Packets(6000, spacingSeconds: 0.004)); // 8 s: connections are finished (and merged) while packets come
        var engine = new AnalysisEngine(new AnalysisContext(), _ => throw new InvalidOperationException("sink failed"));
        var e = Assert.Throws<InvalidOperationException>(() =>
            FeedSplit([() => new CaptureReader(new MemoryStream(bytes), "busy.pcap")], engine));
        Assert.Equal("sink failed", e.Message);
        Assert.Equal(0, TwinFeed.Running);
    }

    [Fact]
    public void An_exception_on_the_twin_thread_reaches_the_caller()
    {
        var bytes = BusyTraffic.Capture(BusyTraffic.Packets(3000));
        int opened = 0;
        // The second opening of the file is the twin's or the caller's, whichever came second: either way the caller must see it.
        Func<CaptureReader> open = () => Interlocked.Increment(ref opened) == 2
            ? throw new HalfwayException("the file went away")
            : new CaptureReader(new MemoryStream(bytes), "busy.pcap");
        var engine = new AnalysisEngine(new AnalysisContext(), _ => { });
        var e = Assert.Throws<HalfwayException>(() => FeedSplit([open], engine));
        Assert.Equal("the file went away", e.Message);
        Assert.Equal(0, TwinFeed.Running);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Threads_that_read_different_lengths_of_a_file_do_not_wait_for_each_other_forever(bool twinReadsMore)
    {
        // A file cut or replaced while it is read: one thread sees far more packets than the other. Nothing is promised
        // about the report then, only that the analysis ends.
        var packets = BusyTraffic.Packets(20000);
        var longer = BusyTraffic.Capture(packets);
        var shorter = BusyTraffic.Capture(packets.Take(2000));
        Func<CaptureReader> open = () =>
        {
            bool twin = Thread.CurrentThread.Name == "halfway twin";
            return new CaptureReader(new MemoryStream(twin == twinReadsMore ? longer : shorter), "changing.pcap");
        };
        var engine = new AnalysisEngine(new AnalysisContext(), _ => { });
        var analysis = Task.Run(() =>
        {
            FeedSplit([open], engine);
            engine.Finish();
        });
        Assert.Same(analysis, await Task.WhenAny(analysis, Task.Delay(TimeSpan.FromSeconds(60))));
        await analysis;
        Assert.Equal(0, TwinFeed.Running);
    }

    [Fact]
    public void Cancellation_reaches_the_caller_and_the_twin_thread_ends()
    {
        var bytes = BusyTraffic.Capture(BusyTraffic.Packets(12000)); // > 65,536 frames: the parsers look at the token
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => Analyse([bytes], split: true, cancelled.Token));
        Assert.Equal(0, TwinFeed.Running);
    }

    [Fact]
    public void Big_plain_files_are_split_and_compressed_ones_are_not()
    {
        var dir = Directory.CreateTempSubdirectory("halfway-split-");
        try
        {
            var bytes = BusyTraffic.Capture(BusyTraffic.Packets(24000, spacingSeconds: 0.0001)); // > 8 MB
            Assert.True(bytes.Length >= CaptureAnalysis.ParseAheadFileLength, $"{bytes.Length} bytes");
            var plain = Path.Combine(dir.FullName, "big.pcap");
            File.WriteAllBytes(plain, bytes);
            var gzipped = Path.Combine(dir.FullName, "big.pcap.gz");
            using (var file = File.Create(gzipped))
            using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
                gzip.Write(bytes);

            Assert.True(SplitFeed.CanReadTwice([plain]));
            Assert.False(SplitFeed.CanReadTwice([gzipped]));
            Assert.False(SplitFeed.CanReadTwice([plain, gzipped]));

            // Just written: its writer may still be at it, so both threads read it. Then, settled: both read one mapping.
            long twinsBefore = TwinFeed.Started, mappedBefore = Halfway.Native.MappedFile.Mapped;
            var split = new RecordingSink();
            var engine = new AnalysisEngine(new AnalysisContext(), split);
            CaptureAnalysis.Feed([plain], engine);
            engine.Finish();
            Assert.Equal(twinsBefore + 1, TwinFeed.Started);
            Assert.Equal(mappedBefore, Halfway.Native.MappedFile.Mapped);

            File.SetLastWriteTimeUtc(plain, DateTime.UtcNow - CaptureAnalysis.SettledAfter - TimeSpan.FromSeconds(1));
            var mapped = new RecordingSink();
            var mappedEngine = new AnalysisEngine(new AnalysisContext(), mapped);
            CaptureAnalysis.Feed([plain], mappedEngine);
            mappedEngine.Finish();
            Assert.Equal(twinsBefore + 2, TwinFeed.Started);
            Assert.Equal(mappedBefore + 1, Halfway.Native.MappedFile.Mapped);

            var whole = new RecordingSink();
            var unsplit = new AnalysisEngine(new AnalysisContext(), whole);
            CaptureAnalysis.Feed([gzipped], unsplit);
            unsplit.Finish();
            Assert.Equal(twinsBefore + 2, TwinFeed.Started);
            Assert.Equal(whole.Calls, split.Calls);
            Assert.Equal(whole.Calls, mapped.Calls);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_file_growing_while_it_is_read_is_read_to_the_length_it_had()
    {
        var packets = BusyTraffic.Packets(300);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, BusyTraffic.Capture(packets));
            long firstThree = BusyTraffic.Capture(packets.Take(3)).Length; // the file's header and its first three records
            int records = 0;
            using (var reader = CaptureReader.Open(path, firstThree))
            {
                while (reader.ReadNext())
                    records++;
                Assert.False(reader.Damaged);
            }
            Assert.Equal(3, records);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
