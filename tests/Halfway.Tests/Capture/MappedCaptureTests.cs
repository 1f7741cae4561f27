using CsCheck;
using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Native;

namespace Halfway.Tests.Capture;

/// <summary>
/// A capture file read from its mapping (as the two threads of a split analysis read it) gives the same packets,
/// counts and warnings as read through a stream, whatever its bytes; a mapping that stops short of the file's end
/// is read as a file of that length.
/// </summary>
public sealed class MappedCaptureTests
{
    private static (List<string> Packets, CaptureReadSummary Summary) Read(CaptureReader reader)
    {
        var parser = new PacketParser(reader, null);
        var batch = new PacketBatch(PacketBatch.SmallLength);
        var packets = new List<string>();
        while (parser.Fill(batch, CancellationToken.None))
            for (int i = 0; i < batch.Count; i++)
            {
                var p = batch.Packets[i];
                packets.Add($"{p.At} {p.Hash} {p.Segment}");
            }
        return (packets, parser.Summary());
    }

    private static (List<string>? Packets, CaptureReadSummary? Summary, string? Rejected) ReadFile(string path, long length, bool mapped)
    {
        using var mapping = mapped ? MappedFile.TryMap(path, length) ?? throw new InvalidOperationException("not mapped") : null;
        try
        {
            using var reader = CaptureReader.Open(path, length, mapping);
            var (packets, summary) = Read(reader);
            return (packets, summary, null);
        }
        catch (HalfwayException e)
        {
            return (null, null, e.Message);
        }
    }

    [Fact]
    public void Mutated_captures_read_from_their_mapping_give_what_the_stream_gives()
    {
        var original = BusyTraffic.Capture(BusyTraffic.Packets(400));
        var path = Path.GetTempFileName();
        int compared = 0;
        try
        {
            FuzzTests.Mutation.Array[1, 6].Sample(mutations =>
            {
                var bytes = FuzzTests.Mutate(original, mutations);
                if (bytes.Length == 0)
                    return;
                File.WriteAllBytes(path, bytes);
                var streamed = ReadFile(path, bytes.Length, mapped: false);
                var mapped = ReadFile(path, bytes.Length, mapped: true);
                Assert.Equal(streamed.Rejected, mapped.Rejected);
                if (streamed.Packets is null)
                    return;
                Assert.Equal(streamed.Packets, mapped.Packets);
                Assert.Equal(streamed.Summary!.Warnings, mapped.Summary!.Warnings);
                Assert.Equal(streamed.Summary.Frames, mapped.Summary.Frames);
                Assert.Equal(streamed.Summary.NotTcp, mapped.Summary.NotTcp);
                Assert.Equal(streamed.Summary.Damaged, mapped.Summary.Damaged);
                compared++;
            }, iter: 200, threads: 1);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.True(compared > 100, $"only {compared} of 200 mutated captures could be read");
    }

    [Fact]
    public void A_mapping_shorter_than_the_file_is_read_as_a_file_of_its_length()
    {
        var packets = BusyTraffic.Packets(300);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, BusyTraffic.Capture(packets));
            long firstThree = BusyTraffic.Capture(packets.Take(3)).Length;
            var (read, summary, rejected) = ReadFile(path, firstThree, mapped: true);
            Assert.Null(rejected);
            Assert.Equal(3, read!.Count);
            Assert.False(summary!.Damaged);
            // Cut inside the fourth record: the same warning as a file that ends there.
            var (cut, cutSummary, _) = ReadFile(path, firstThree + 20, mapped: true);
            var (streamed, streamedSummary, _) = ReadFile(path, firstThree + 20, mapped: false);
            Assert.Equal(streamed, cut);
            Assert.True(cutSummary!.Damaged);
            Assert.Equal(streamedSummary!.Warnings, cutSummary.Warnings);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Pages_let_go_of_behind_a_reader_still_read_as_the_file()
    {
        var path = Path.GetTempFileName();
        try
        {
            var bytes = new byte[48 << 20];
            new Random(7).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            using var mapping = MappedFile.TryMap(path, bytes.Length) ?? throw new InvalidOperationException("not mapped");
            long sum = 0;
            foreach (var b in mapping.Span(0, bytes.Length))
                sum += b;
            // Two readers at different places let go of what is behind them; a reader far behind reads it again.
            mapping.ReleaseBefore(bytes.Length - 1);
            mapping.ReleaseBefore(40 << 20);
            Assert.True(mapping.Span(0, bytes.Length).SequenceEqual(bytes));
            Assert.True(mapping.Span(5 << 20, 4096).SequenceEqual(bytes.AsSpan(5 << 20, 4096)));
            Assert.Equal(bytes.Length - (long)(45 << 20), mapping.Span(45 << 20, int.MaxValue).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_file_that_cannot_be_mapped_is_not()
    {
        Assert.Null(MappedFile.TryMap("/nonexistent/halfway.pcap", 100));
        var path = Path.GetTempFileName();
        try
        {
            Assert.Null(MappedFile.TryMap(path, 0));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
