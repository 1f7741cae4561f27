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
            // Read whole first, so that the pages let go of below were mapped.
            long sum = 0;
            foreach (var b in mapping.Span(0, bytes.Length))
                sum += b;
            Assert.Equal(bytes.Sum(b => (long)b), sum);
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
    public void A_pcapng_capture_read_from_its_mapping_gives_what_the_stream_gives_and_lets_go_of_what_it_read()
    {
        // pcapng goes the general way (block by block through the reader's buffer), not the fast path.
        var ng = new CaptureBytes.PcapNg().Section().Interface(101);
        foreach (var (at, ip) in BusyTraffic.Packets(3000))
            ng.Enhanced(0, (ulong)at, ip);
        var small = ng.ToArray();
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, small);
            var streamed = ReadFile(path, small.Length, mapped: false);
            var mapped = ReadFile(path, small.Length, mapped: true);
            Assert.Null(mapped.Rejected);
            Assert.Equal(streamed.Packets, mapped.Packets);
            Assert.Equal(streamed.Summary!.Warnings, mapped.Summary!.Warnings);

            // 64 MB of the same blocks: read whole, at most the trailing window stays in the process's memory.
            int header = HeaderLength(small);
            using (var file = File.Create(path))
            {
                file.Write(small);
                for (long written = small.Length; written < 64 << 20; written += small.Length - header)
                    file.Write(small, header, small.Length - header);
            }
            long length = new FileInfo(path).Length;
            using var mapping = MappedFile.TryMap(path, length) ?? throw new InvalidOperationException("not mapped");
            using var reader = CaptureReader.Open(path, length, mapping);
            long frames = 0;
            while (reader.ReadNext())
                frames++;
            Assert.False(reader.Damaged);
            Assert.True(frames > 300_000, $"{frames} frames");
            long residentKb = ResidentKilobytesOf(path);
            Assert.True(residentKb <= 40 << 10, $"{residentKb} kB of the 64 MB file still in the process's memory");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The section header and interface blocks at the start of a pcapng file: the blocks after them can be repeated.</summary>
    private static int HeaderLength(byte[] ng)
    {
        int at = 0;
        for (int blocks = 0; blocks < 2; blocks++)
            at += BitConverter.ToInt32(ng, at + 4);
        return at;
    }

    /// <summary>This process's resident memory in its mapping of <paramref name="path"/> (from /proc/self/smaps).</summary>
    private static long ResidentKilobytesOf(string path)
    {
        long total = 0;
        bool inMapping = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (char.IsAsciiHexDigit(line[0]) && line.Contains('-'))
                inMapping = line.EndsWith(" " + path, StringComparison.Ordinal);
            else if (inMapping && line.StartsWith("Rss:", StringComparison.Ordinal))
                total += long.Parse(line["Rss:".Length..].Trim().Split(' ')[0]);
        }
        return total;
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
