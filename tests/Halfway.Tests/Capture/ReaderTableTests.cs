using Halfway.Capture;
using Halfway.Wire;
using static Halfway.Tests.Capture.CaptureBytes;

namespace Halfway.Tests.Capture;

/// <summary>The reader on hand-made bytes: every container variant and link type gives the same TCP segments and times.</summary>
public sealed class ReaderTableTests
{
    private static readonly IpEndpoint Client4 = V4("10.0.0.2", 40000), Server4 = V4("10.0.0.1", 8080);
    private static readonly IpEndpoint Client6 = IpEndpoint.From(System.Net.IPEndPoint.Parse("[fd00::2]:40000"));
    private static readonly IpEndpoint Server6 = IpEndpoint.From(System.Net.IPEndPoint.Parse("[fd00::1]:8080"));
    private const long T0 = 1_700_000_000_123_456;

    private static byte[] Syn(bool v6) => v6 ? TcpPacket(Client6, Server6, 1000, 0, TcpFlags.Syn) : TcpPacket(Client4, Server4, 1000, 0, TcpFlags.Syn);
    private static byte[] SynAck(bool v6) => v6 ? TcpPacket(Server6, Client6, 5000, 1001, TcpFlags.Syn | TcpFlags.Ack) : TcpPacket(Server4, Client4, 5000, 1001, TcpFlags.Syn | TcpFlags.Ack);

    public static TheoryData<string, uint, int, bool> LinkTypes => new()
    {
        { "Ethernet", 1, 0, false }, { "Ethernet IPv6", 1, 0, true }, { "Ethernet 802.1Q", 1, 1, false }, { "Ethernet QinQ", 1, 2, true },
        { "SLL", 113, 0, false }, { "SLL IPv6", 113, 0, true }, { "SLL2", 276, 0, false }, { "SLL2 IPv6", 276, 0, true },
        { "raw 101", 101, 0, false }, { "raw 101 IPv6", 101, 0, true }, { "raw 12", 12, 0, false }, { "raw 14", 14, 0, true },
        { "raw IPv4 228", 228, 0, false }, { "raw IPv6 229", 229, 0, true },
        { "null (little-endian family)", 0, 0, false }, { "null IPv6", 0, 0, true }, { "loop 108", 108, 0, false }, { "loop 108 IPv6", 108, 0, true },
    };

    [Theory]
    [MemberData(nameof(LinkTypes))]
    public void Link_type(string name, uint linkType, int vlanTags, bool v6)
    {
        var bytes = Pcap(linkType, [new PcapRecord(T0, Frame(linkType, Syn(v6), vlanTags)), new PcapRecord(T0 + 10, Frame(linkType, SynAck(v6), vlanTags))]);
        var segments = ReadAll(bytes, out var reader);
        Assert.True(segments.Count == 2, $"{name}: expected 2 segments vs actual {segments.Count}");
        Assert.Equal(v6 ? Client6 : Client4, segments[0].Segment.Source);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, segments[1].Segment.Flags);
        Assert.Equal(T0 * 1000 + 10_000, segments[1].Nanoseconds);
        Assert.Empty(reader.Warnings);
    }

    public static TheoryData<string, bool, bool> PcapVariants => new()
    {
        { "µs little-endian", false, false }, { "µs big-endian", false, true }, { "ns little-endian", true, false }, { "ns big-endian", true, true },
    };

    [Theory]
    [MemberData(nameof(PcapVariants))]
    public void Pcap_variant(string name, bool nanoseconds, bool bigEndian)
    {
        var bytes = Pcap(1, [new PcapRecord(T0, Frame(1, Syn(false))), new PcapRecord(T0 + 1, Frame(1, SynAck(false)))], nanoseconds, bigEndian);
        var segments = ReadAll(bytes, out var reader);
        Assert.True(segments.Count == 2, name);
        Assert.Equal(T0 * 1000, segments[0].Nanoseconds);
        Assert.Equal(T0 * 1000 + 1000, segments[1].Nanoseconds);
        Assert.Equal(nanoseconds ? CaptureFormat.PcapNanoseconds : CaptureFormat.PcapMicroseconds, reader.Format);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pcapng_sections_interfaces_and_block_kinds(bool bigEndian)
    {
        var bytes = new PcapNg(bigEndian)
            .Section().Interface(1).Interface(101, tsresol: 9).Other()
            .Enhanced(0, (ulong)T0, Frame(1, Syn(false)))
            .Enhanced(1, (ulong)(T0 * 1000 + 7), SynAck(false))
            .Section().Interface(113, tsresol: 0x80 | 10) // binary resolution: 1/1024 s
            .Enhanced(0, 1024 * 3 + 512, Frame(113, Syn(true)))
            .Obsolete(0, 2048, Frame(113, SynAck(true)))
            .Simple(Frame(113, Syn(true)))
            .ToArray();
        var segments = ReadAll(bytes, out var reader);
        Assert.Equal(5, segments.Count);
        Assert.Equal(T0 * 1000, segments[0].Nanoseconds);
        Assert.Equal(T0 * 1000 + 7, segments[1].Nanoseconds);
        Assert.Equal(3_500_000_000, segments[2].Nanoseconds);
        Assert.Equal(2_000_000_000, segments[3].Nanoseconds);
        Assert.Equal(Client6, segments[4].Segment.Source);
        Assert.Empty(reader.Warnings);
        Assert.Equal(CaptureFormat.PcapNg, reader.Format);
    }

    [Fact]
    public void Gzip_input_is_recognised_by_its_magic()
    {
        var bytes = Gzip(Pcap(101, [new PcapRecord(T0, Syn(false)), new PcapRecord(T0 + 1, SynAck(false))]));
        var segments = ReadAll(bytes, out var reader);
        Assert.Equal(2, segments.Count);
        Assert.True(reader.Compressed);
    }

    [Fact]
    public void Not_a_capture_is_a_clear_error()
    {
        var e = Assert.Throws<HalfwayException>(() => new CaptureReader(new MemoryStream("hello, this is text"u8.ToArray()), "notes.txt"));
        Assert.Contains("not a pcap or pcapng", e.Message);
        Assert.Equal(2, e.ExitCode);
        Assert.Throws<HalfwayException>(() => new CaptureReader(new MemoryStream([]), "empty.pcap"));
    }

    [Fact]
    public void Unsupported_link_type_is_a_clear_error()
    {
        var e = Assert.Throws<HalfwayException>(() => new CaptureReader(new MemoryStream(Pcap(105, [])), "wifi.pcap"));
        Assert.Contains("unsupported link type 105", e.Message);
        var ng = new PcapNg().Section().Interface(127).Enhanced(0, 1, [1, 2, 3, 4]).ToArray();
        var e2 = Assert.Throws<HalfwayException>(() => ReadAll(ng, out _));
        Assert.Contains("unsupported link type 127", e2.Message);
    }

    [Theory]
    [InlineData(0, false, true)]   // hop-by-hop options
    [InlineData(60, false, true)]  // destination options
    [InlineData(44, false, true)]  // first fragment
    [InlineData(44, true, false)]  // a later fragment has no TCP header
    public void IPv6_extension_headers_are_followed(byte header, bool laterFragment, bool parsed)
    {
        var plain = Syn(true);
        var extension = new byte[8];
        extension[0] = 6; // next header: TCP
        if (header == 44 && laterFragment)
            extension[3] = 0x08; // fragment offset 1 (×8 bytes)
        var packet = plain[..40].Concat(extension).Concat(plain[40..]).ToArray();
        packet[6] = header;
        packet[5] += 8; // payload length grows by the extension header
        Assert.Equal(parsed, TcpSegment.TryParseIp(packet, out var segment));
        if (parsed)
        {
            Assert.Equal(Client6, segment.Source);
            Assert.Equal(TcpFlags.Syn, segment.Flags);
            Assert.Equal(0, segment.PayloadLength);
        }
    }

    internal static List<(long Nanoseconds, TcpSegment Segment)> ReadAll(byte[] bytes, out CaptureReader reader)
    {
        reader = new CaptureReader(new MemoryStream(bytes), "test");
        var result = new List<(long, TcpSegment)>();
        var engine = new Halfway.Analysis.AnalysisEngine(new Halfway.Analysis.AnalysisContext(), _ => { });
        while (reader.ReadNext())
        {
            int offset = LinkLayer.IpOffset(reader.LinkType, reader.Frame);
            if (offset >= 0 && TcpSegment.TryParseIp(reader.Frame[offset..], out var segment))
                result.Add((reader.TimestampNanoseconds, segment));
        }
        if (result.Count == 0 && reader.UnsupportedOnly is not null)
            CaptureAnalysis.Feed(new CaptureReader(new MemoryStream(bytes), "test"), engine);
        return result;
    }
}
