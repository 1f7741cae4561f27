using System.Text;
using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Capture.Parallel;
using Halfway.Reports;

namespace Halfway.Tests.Capture.Parallel;

/// <summary>
/// Parsing on a second thread (big compressed files) must not change what `explain` reports: the same connections, fates and
/// evidence in the same order, the same counts and warnings; errors and cancellation reach the caller, and the thread ends.
/// </summary>
/// <remarks>In the serial collection: a lab test feeding a big capture at the same time would start a parsing thread too.</remarks>
[Collection(LabCollection.Name)]
public sealed class ParseAheadTests
{
    /// <summary>The whole `explain --json --all` output and the read summary for a capture fed one way or the other.</summary>
    private static string Explain(byte[] bytes, bool parseAhead, CancellationToken token = default)
    {
        var context = new AnalysisContext();
        var report = new ExplainReport(keepAll: true);
        var engine = new AnalysisEngine(context, report);
        CaptureReadSummary summary;
        using (var reader = new CaptureReader(new MemoryStream(bytes), "busy.pcap"))
            summary = CaptureAnalysis.Feed(reader, engine, token: token, parseAhead: parseAhead);
        engine.Finish();
        var json = new MemoryStream();
        ExplainJsonWriter.Write(json, new ExplainInput([], summary), report, context);
        var text = new StringBuilder(Encoding.UTF8.GetString(json.ToArray()));
        text.Append($"\nframes={summary.Frames} tcp={summary.TcpPackets} damaged={summary.Damaged} first={summary.FirstTimestampMicroseconds} last={summary.LastTimestampMicroseconds}\n");
        foreach (var w in summary.Warnings)
            text.Append($"warning {w.ByteOffset}: {w.Message}\n");
        return text.ToString();
    }

    [Fact]
    public void A_busy_capture_gives_the_same_report_either_way()
    {
        var bytes = BusyTraffic.Capture(BusyTraffic.Packets(6000)); // ~40,000 packets: 10 batches
        string inline = Explain(bytes, parseAhead: false);
        Assert.Equal(inline, Explain(bytes, parseAhead: true));
        Assert.Contains("\"half_established\":true", inline.Replace(" ", ""));
        Assert.Contains("\"refused\"", inline);
    }

    [Fact]
    public void A_capture_cut_short_gives_the_same_warnings_and_reports_either_way()
    {
        var whole = BusyTraffic.Capture(BusyTraffic.Packets(3000));
        var cut = whole.AsSpan(0, whole.Length * 2 / 3 + 7).ToArray(); // ends inside a record
        string inline = Explain(cut, parseAhead: false);
        Assert.Equal(inline, Explain(cut, parseAhead: true));
        Assert.Contains("damaged=True", inline);
        Assert.Contains("truncated", inline);
    }

    [Fact]
    public void Cancellation_reaches_the_caller_and_the_parsing_thread_ends()
    {
        var bytes = BusyTraffic.Capture(BusyTraffic.Packets(12000)); // > 65,536 frames: the parser looks at the token
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => Explain(bytes, parseAhead: true, cancelled.Token));
        Assert.Equal(0, ParseAhead.Running);
    }

    [Fact]
    public void An_exception_in_the_analysis_stops_the_parsing_thread()
    {
        var bytes = BusyTraffic.Capture(BusyTraffic.Packets(6000, spacingSeconds: 0.006)); // 12 s: the engine finishes connections (and calls the sink) while packets come
        var engine = new AnalysisEngine(new AnalysisContext(), _ => throw new InvalidOperationException("sink failed"));
        using (var reader = new CaptureReader(new MemoryStream(bytes), "busy.pcap"))
        {
            var e = Assert.Throws<InvalidOperationException>(() => CaptureAnalysis.Feed(reader, engine, parseAhead: true));
            Assert.Equal("sink failed", e.Message);
        }
        Assert.Equal(0, ParseAhead.Running);
    }

}
