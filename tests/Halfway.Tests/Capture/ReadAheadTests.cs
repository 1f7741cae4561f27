using Halfway.Capture;
using Halfway.Wire;
using static Halfway.Tests.Capture.CaptureBytes;

namespace Halfway.Tests.Capture;

/// <summary>
/// The read-ahead (a second thread reads the file in chunks) must not change what the reader returns: the same frames
/// with the same offsets, and on damaged or unreadable input the same warnings at the same byte offsets.
/// </summary>
public sealed class ReadAheadTests
{
    private static readonly IpEndpoint Client = V4("10.0.0.2", 40000);
    private static readonly IpEndpoint Server = V4("10.0.0.1", 8080);

    private static byte[] ManyPackets(int count) =>
        Pcap(1, Enumerable.Range(0, count).Select(i =>
            new PcapRecord(i * 10L, Frame(1, TcpPacket(Client, Server, (uint)i, 0, TcpFlags.Ack, payload: i % 200)))));

    /// <summary>Everything a reader gives for a stream: per frame its offset, time, link type, lengths and bytes; then the warnings.</summary>
    private static string Read(Stream stream, int readAheadChunk, int stopAfter = int.MaxValue)
    {
        var text = new System.Text.StringBuilder();
        using (var reader = new CaptureReader(stream, "test.pcap", readAheadChunk))
        {
            int frames = 0;
            while (frames < stopAfter && reader.ReadNext())
            {
                frames++;
                text.Append($"{reader.FrameOffset} {reader.TimestampNanoseconds} {reader.LinkType} {reader.OriginalLength} {reader.InterfaceId} {Convert.ToHexString(reader.Frame)}\n");
            }
            text.Append($"damaged={reader.Damaged} position={reader.Position} frames={reader.FrameNumber}\n");
            foreach (var w in reader.Warnings)
                text.Append($"warning {w.ByteOffset}: {w.Message}\n");
        }
        return text.ToString();
    }

    // A stream that yields at most a few bytes per read: the reader's first read does not take the whole test file, so the
    // rest comes through the read-ahead's chunks (and a chunk takes several reads to fill).
    private sealed class TrickleStream(byte[] bytes, int perRead, long failAt = long.MaxValue) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= failAt)
                throw new IOException("simulated read error");
            return base.Read(buffer, offset, (int)Math.Min(Math.Min(count, perRead), failAt - Position));
        }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void A_whole_file_reads_the_same(int chunk)
    {
        var bytes = ManyPackets(3000);
        string plain = Read(new TrickleStream(bytes, 997), 0);
        Assert.Equal(plain, Read(new TrickleStream(bytes, 997), chunk));
        Assert.Contains("frames=3000", plain);
    }

    [Fact]
    public void A_file_cut_anywhere_gives_the_same_frames_and_warnings()
    {
        var bytes = ManyPackets(400);
        for (int cut = 30; cut < bytes.Length; cut += 1013)
        {
            var part = bytes[..cut];
            Assert.Equal(Read(new TrickleStream(part, 333), 0), Read(new TrickleStream(part, 333), 500));
        }
    }

    [Fact]
    public void A_bad_record_header_gives_the_same_warning_and_offset()
    {
        var bytes = ManyPackets(400);
        BitConverter.GetBytes(0x7fff_fff0u).CopyTo(bytes, 24 + 16 * 10 + Enumerable.Range(0, 10).Sum(i => 14 + 40 + i % 200) + 8);
        string plain = Read(new TrickleStream(bytes, 101), 0);
        Assert.Contains("snapshot length", plain);
        Assert.Equal(plain, Read(new TrickleStream(bytes, 101), 700));
    }

    [Fact]
    public void A_read_error_is_reported_where_the_reader_met_it()
    {
        var bytes = ManyPackets(400);
        string plain = Read(new TrickleStream(bytes, 211, failAt: 9000), 0);
        Assert.Contains("simulated read error", plain);
        Assert.Equal(plain, Read(new TrickleStream(bytes, 211, failAt: 9000), 1000));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(100_000)]
    public void Blocks_longer_than_a_chunk_and_its_headroom_are_joined(int chunk)
    {
        var small = Frame(1, TcpPacket(Client, Server, 1, 0, TcpFlags.Ack, payload: 10));
        var big = new byte[ReadAhead.Headroom + 300_000];
        small.CopyTo(big, 0);
        var ng = new PcapNg().Section().Interface(1);
        for (int i = 0; i < 50; i++)
            ng.Enhanced(0, (ulong)i, i % 10 == 3 ? big : small);
        var bytes = ng.ToArray();
        string plain = Read(new TrickleStream(bytes, 4093), 0);
        Assert.Contains("frames=50", plain);
        Assert.Equal(plain, Read(new TrickleStream(bytes, 4093), chunk));
    }

    [Fact]
    public void Stopping_early_ends_the_read_ahead_thread()
    {
        var bytes = ManyPackets(3000);
        var read = Read(new TrickleStream(bytes, 997), 100, stopAfter: 10);
        Assert.Contains("frames=10", read);
    }

    [Fact]
    public void Big_files_are_read_ahead_and_read_the_same()
    {
        var bytes = ManyPackets(120_000); // > 8 MB
        var path = Path.Combine(Path.GetTempPath(), $"halfway-readahead-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(path, bytes[..^7]); // cut short: the warning must be the same too
            string expected = Read(new MemoryStream(bytes[..^7]), 0);
            var reader = CaptureReader.Open(path);
            Assert.True(reader.ReadsAhead);
            reader.Dispose();
            var text = new System.Text.StringBuilder();
            using (var again = CaptureReader.Open(path))
            {
                while (again.ReadNext())
                    text.Append($"{again.FrameOffset} {again.TimestampNanoseconds} {again.LinkType} {again.OriginalLength} {again.InterfaceId} {Convert.ToHexString(again.Frame)}\n");
                text.Append($"damaged={again.Damaged} position={again.Position} frames={again.FrameNumber}\n");
                foreach (var w in again.Warnings)
                    text.Append($"warning {w.ByteOffset}: {w.Message}\n");
            }
            Assert.Equal(expected, text.ToString());
            Assert.Contains("truncated", expected);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
