using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Tests.Analysis;
using Halfway.Tests.Support;
using Halfway.Wire;

namespace Halfway.Tests.Capture;

public sealed class PcapngWriterTests
{
    private const string DroppedAck = "dropped by the link: rule 'lost final ACKs'";
    private const string Unicode = "in flight when the lab stopped (never delivered) — ünïcode";

    /// <summary>A connection whose final ACK the link dropped, then an IPv6 handshake, some packets with comments and flags.</summary>
    private static readonly List<(long Microseconds, byte[] Ip, string? Comment, PcapngPacketFlags? Flags)> Packets =
        new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 100).ServerAck(0.012).Packets
            .Concat(new Conversation("[fd00::2]:40000", "[fd00::1]:8080").Syn(0.5).SynAck(0.5001).Packets)
            .Select((p, i) => (p.Microseconds, p.Ip,
                i switch { 2 => DroppedAck, 6 => Unicode, _ => (string?)null },
                i switch { 0 or 2 or 3 or 5 => PcapngPacketFlags.Outbound, 1 or 4 => PcapngPacketFlags.Inbound, _ => (PcapngPacketFlags?)null }))
            .ToList();

    private static byte[] Write(string? interfaceName = "hw0")
    {
        var stream = new MemoryStream();
        using (var writer = new PcapngWriter(stream, interfaceName, "a test link", leaveOpen: true))
        {
            foreach (var (at, ip, comment, flags) in Packets)
                writer.Write(at, ip, ip.Length, comment, flags);
            Assert.Equal(Packets.Count, writer.PacketsWritten);
        }
        return stream.ToArray();
    }

    [Fact]
    public void Written_packets_read_back_with_their_times_through_the_projects_reader()
    {
        using var reader = new CaptureReader(new MemoryStream(Write()), "written.pcapng");
        int i = 0;
        while (reader.ReadNext())
        {
            Assert.Equal(CaptureFormat.PcapNg, reader.Format);
            Assert.Equal(LinkLayer.Raw, reader.LinkType);
            Assert.Equal(Packets[i].Microseconds * 1000, reader.TimestampNanoseconds);
            Assert.True(reader.Frame.SequenceEqual(Packets[i].Ip));
            Assert.Equal(Packets[i].Ip.Length, reader.OriginalLength);
            Assert.True(TcpSegment.TryParseIp(reader.Frame, out _));
            i++;
        }
        Assert.Equal(Packets.Count, i);
        Assert.Empty(reader.Warnings);
        Assert.False(reader.Damaged);
    }

    [Fact]
    public void Packets_cut_short_keep_their_original_length_and_blocks_stay_aligned()
    {
        var stream = new MemoryStream();
        var ip = Packets[3].Ip; // the one with data
        using (var writer = new PcapngWriter(stream, snapLength: 60, leaveOpen: true))
        {
            writer.Write(Conversation.Epoch, ip.AsSpan(0, 41), ip.Length, "cut at 41 bytes");
            writer.Write(Conversation.Epoch + 1, ip, ip.Length);
            writer.Write(Conversation.Epoch + 2, ip[..52], ip.Length);
        }
        var bytes = stream.ToArray();
        Assert.Equal(0, bytes.Length % 4);
        using var reader = new CaptureReader(new MemoryStream(bytes), "cut.pcapng");
        Assert.True(reader.ReadNext());
        Assert.Equal(41, reader.Frame.Length);
        Assert.Equal(ip.Length, reader.OriginalLength);
        // Longer than the snap length: cut by the writer.
        Assert.True(reader.ReadNext());
        Assert.True(reader.Frame.SequenceEqual(ip[..60]));
        Assert.Equal(ip.Length, reader.OriginalLength);
        Assert.True(reader.ReadNext());
        Assert.True(reader.Frame.SequenceEqual(ip[..52]));
        Assert.False(reader.ReadNext());
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void Explain_analyses_a_file_with_comments_like_any_capture()
    {
        var path = Path.Combine(Path.GetTempPath(), $"halfway-writer-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(path, Write());
            var clients = new List<string>();
            var engine = new AnalysisEngine(new AnalysisContext(), r => clients.Add(r.Client.ToString()));
            var summary = CaptureAnalysis.Feed([path], engine);
            engine.Finish();
            Assert.False(summary.Damaged);
            Assert.Equal(["10.0.0.2:40000", "[fd00::2]:40000"], clients.Order().ToList());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Tshark_reads_the_file_and_shows_the_comments_and_directions()
    {
        if (!File.Exists("/usr/bin/tshark") && Environment.GetEnvironmentVariable("CI") != "true")
            return; // an independent reader is a bonus, not a requirement of the unit tests (test.sh installs it)
        var path = Path.Combine(Path.GetTempPath(), $"halfway-writer-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(path, Write());
            var lines = HostSnapshot.Run(["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=|",
                "-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.packet_flags_direction", "-e", "frame.comment"])
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(Packets.Count, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                var f = lines[i].Split('|');
                Assert.Equal((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), f[0]);
                // frame.packet_flags_direction is hex (0x00000002) on tshark 4.0, empty when the packet has no flags.
                int? direction = f[2].Length == 0 ? null : Convert.ToInt32(f[2], 16);
                Assert.True((int?)Packets[i].Flags == direction, $"frame {i + 1}: direction '{f[2]}'");
                Assert.Equal(Packets[i].Comment ?? "", f[3]);
            }
            Assert.StartsWith("1700000000.000100", lines[1].Split('|')[1]);

            var captureInfo = HostSnapshot.Run(["capinfos", "-E", "-T", "-r", path]);
            Assert.Contains("pcapng", captureInfo);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
