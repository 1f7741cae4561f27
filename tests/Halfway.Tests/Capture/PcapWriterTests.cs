using System.Diagnostics;
using Halfway.Capture;
using Halfway.Tests.Analysis;
using Halfway.Wire;

namespace Halfway.Tests.Capture;

public sealed class PcapWriterTests
{
    private static readonly List<(long Microseconds, byte[] Ip)> Packets =
        new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 100).ServerAck(0.012).Packets
            .Concat(new Conversation("[fd00::2]:40000", "[fd00::1]:8080").Syn(0.5).SynAck(0.5001).Packets).ToList();

    private static byte[] Write()
    {
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, leaveOpen: true))
        {
            foreach (var (at, ip) in Packets)
                writer.Write(at, ip, ip.Length);
            Assert.Equal(Packets.Count, writer.PacketsWritten);
        }
        return stream.ToArray();
    }

    [Fact]
    public void Written_packets_read_back_with_their_times()
    {
        var reader = new CaptureReader(new MemoryStream(Write()), "written.pcap");
        Assert.Equal(CaptureFormat.PcapNanoseconds, reader.Format);
        int i = 0;
        while (reader.ReadNext())
        {
            Assert.Equal(LinkLayer.Raw, reader.LinkType);
            Assert.Equal(Packets[i].Microseconds * 1000, reader.TimestampNanoseconds);
            Assert.True(reader.Frame.SequenceEqual(Packets[i].Ip));
            Assert.True(TcpSegment.TryParseIp(reader.Frame, out _));
            i++;
        }
        Assert.Equal(Packets.Count, i);
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void Tshark_reads_the_written_file()
    {
        if (!File.Exists("/usr/bin/tshark"))
            return; // an independent reader is a bonus, not a requirement of the unit tests
        var path = Path.Combine(Path.GetTempPath(), $"halfway-writer-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(path, Write());
            var start = new ProcessStartInfo("/usr/bin/tshark", ["-r", path, "-T", "fields", "-e", "tcp.flags.str", "-e", "frame.time_epoch"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var tshark = Process.Start(start)!;
            var lines = tshark.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            tshark.WaitForExit();
            Assert.Equal(Packets.Count, lines.Length);
            Assert.Contains("1700000000.000100000", lines[1]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
