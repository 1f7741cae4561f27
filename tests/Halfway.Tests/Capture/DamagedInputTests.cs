using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Tests.Analysis;
using static Halfway.Tests.Capture.CaptureBytes;

namespace Halfway.Tests.Capture;

/// <summary>Damaged files: no crash, no hang, a warning with the byte offset, and every packet before the damage analysed.</summary>
public sealed class DamagedInputTests
{
    private static readonly List<(long Microseconds, byte[] Ip)> Packets =
        new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 100).ServerAck(0.012).ClientFin(0.02).ServerFin(0.021).Ack(0.03).Packets;

    private static byte[] GoodPcap() => Pcap(1, Packets.Select(p => new PcapRecord(p.Microseconds, Frame(1, p.Ip))));

    private static byte[] GoodPcapNg()
    {
        var ng = new PcapNg().Section().Interface(1);
        foreach (var (at, ip) in Packets)
            ng.Enhanced(0, (ulong)at, Frame(1, ip));
        return ng.ToArray();
    }

    private static CaptureReadSummary Feed(byte[] bytes, out List<ConnectionReport> reports)
    {
        var found = new List<ConnectionReport>();
        var engine = new AnalysisEngine(new AnalysisContext(), found.Add);
        var summary = CaptureAnalysis.Feed(new CaptureReader(new MemoryStream(bytes), "damaged.pcap"), engine);
        engine.Finish();
        reports = found;
        return summary;
    }

    private static int RecordOffset(int index) => 24 + Packets.Take(index).Sum(p => 16 + 14 + p.Ip.Length);

    [Fact]
    public void Pcap_truncated_inside_a_record()
    {
        var bytes = GoodPcap();
        var cut = bytes[..(RecordOffset(5) + 20)];
        var summary = Feed(cut, out var reports);
        Assert.True(summary.Damaged);
        Assert.Equal(5, summary.TcpPackets);
        var warning = Assert.Single(summary.Warnings);
        Assert.Equal(RecordOffset(5), warning.ByteOffset);
        Assert.Contains("truncated", warning.Message);
        Assert.Single(reports);
    }

    [Fact]
    public void Pcap_truncated_inside_a_record_header()
    {
        var bytes = GoodPcap()[..(RecordOffset(3) + 7)];
        var summary = Feed(bytes, out _);
        Assert.Equal(3, summary.TcpPackets);
        Assert.Equal(RecordOffset(3), Assert.Single(summary.Warnings).ByteOffset);
    }

    [Fact]
    public void Pcap_record_longer_than_the_file()
    {
        var bytes = GoodPcap();
        BitConverter.GetBytes(5000u).CopyTo(bytes, RecordOffset(6) + 8);
        var summary = Feed(bytes, out _);
        Assert.True(summary.Damaged);
        Assert.Equal(6, summary.TcpPackets);
        Assert.Equal(RecordOffset(6), Assert.Single(summary.Warnings).ByteOffset);
    }

    [Fact]
    public void Pcap_record_length_beyond_any_snapshot_length()
    {
        var bytes = GoodPcap();
        BitConverter.GetBytes(0x7fff_fff0u).CopyTo(bytes, RecordOffset(2) + 8);
        var summary = Feed(bytes, out _);
        Assert.Equal(2, summary.TcpPackets);
        Assert.Contains("snapshot length", Assert.Single(summary.Warnings).Message);
    }

    [Fact]
    public void Pcapng_bad_block_length()
    {
        var bytes = GoodPcapNg();
        int offset = 28 + 20; // section header (28) + interface (20)
        offset += 32 + ((14 + Packets[0].Ip.Length + 3) & ~3);
        BitConverter.GetBytes(13u).CopyTo(bytes, offset + 4);
        var summary = Feed(bytes, out _);
        Assert.True(summary.Damaged);
        Assert.Equal(1, summary.TcpPackets);
        var warning = Assert.Single(summary.Warnings);
        Assert.Equal(offset, warning.ByteOffset);
        Assert.Contains("bad block length", warning.Message);
    }

    [Fact]
    public void Pcapng_truncated_block()
    {
        var bytes = GoodPcapNg();
        var summary = Feed(bytes[..^10], out _);
        Assert.True(summary.Damaged);
        Assert.Equal(Packets.Count - 1, summary.TcpPackets);
        Assert.Contains("truncated", Assert.Single(summary.Warnings).Message);
    }

    [Fact]
    public void Packet_cut_short_and_ip_length_that_lies()
    {
        var syn = Packets[0].Ip;
        var lying = (byte[])Packets[3].Ip.Clone(); // 100 bytes of data
        lying[2] = 0x10; // IP total length 4096+: more than the frame carried
        var bytes = Pcap(101, [new PcapRecord(1, syn[..30]), new PcapRecord(2, syn), new PcapRecord(3, lying)]);
        var summary = Feed(bytes, out _);
        Assert.False(summary.Damaged); // the file itself is whole; these are packet-level warnings
        Assert.Equal(2, summary.TcpPackets);
        Assert.Contains(summary.Warnings, w => w.Message.Contains("cut short") && w.ByteOffset == 24);
        Assert.Contains(summary.Warnings, w => w.Message.Contains("IP length") && w.ByteOffset == 24 + 16 + 30 + 16 + syn.Length);
    }

    [Fact]
    public void Garbage_after_the_header_stops_with_a_warning()
    {
        var bytes = GoodPcap()[..24].Concat(Enumerable.Repeat((byte)0xff, 100)).ToArray();
        var summary = Feed(bytes, out _);
        Assert.True(summary.Damaged);
        Assert.Equal(24, Assert.Single(summary.Warnings).ByteOffset);
    }

    [Fact]
    public void Truncated_gzip_reports_damage()
    {
        var gz = Gzip(GoodPcap());
        var summary = Feed(gz[..^12], out _);
        Assert.True(summary.Damaged);
        Assert.NotEmpty(summary.Warnings);
    }
}
