using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Tests.Analysis;

/// <summary>
/// Where the capture was taken, inferred from the handshakes that completed on their first SYN and SYN-ACK: a re-sent
/// SYN puts the client's retransmission timer into SYN → SYN-ACK and must not read as distance. Real packets through
/// the real engine into the explain report.
/// </summary>
public sealed class CapturePointTests
{
    /// <summary>
    /// One row: the client's and the server's one-way delay from the capture point (s), how many connections re-sent
    /// their SYN once (the first SYN lost before the capture point, as a client-side capture sees it: two SYNs, one
    /// answered 1 s later), how many completed plainly, and what the verdict must start with and say.
    /// </summary>
    public static TheoryData<string, double, double, int, int, string, string> Rows => new()
    {
        { "near the client, no re-sent SYN", 0.00005, 0.020, 0, 10, "near the client", "medians of the 10 handshakes" },
        { "near the server, no re-sent SYN", 0.020, 0.00005, 0, 10, "near the server", "medians of the 10 handshakes" },
        // The old inference took the first SYN: 8 re-sent SYNs of 13 made a near-server capture read "near the client" (1 s gaps).
        { "near the server, most SYNs re-sent", 0.020, 0.00005, 8, 5, "near the server", "5 handshakes that completed on their first SYN and SYN-ACK; 8 with a re-sent SYN or SYN-ACK left out" },
        { "near the client, most SYNs re-sent", 0.00005, 0.020, 8, 5, "near the client", "8 with a re-sent SYN or SYN-ACK left out" },
        { "only re-sent SYNs: too few to tell", 0.020, 0.00005, 6, 2, "undetermined: 2 handshake(s) completed on their first SYN and SYN-ACK, too few to tell", "6 with a re-sent SYN or SYN-ACK left out" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Row(string name, double clientDelay, double serverDelay, int resentSyns, int plain, string verdict, string says)
    {
        var packets = new List<(long, byte[])>();
        int port = 40000;
        double start = 0;
        for (int i = 0; i < resentSyns + plain; i++, start += 2)
        {
            var c = new Conversation($"10.0.0.2:{port++}", "10.0.0.1:8080");
            // The capture point sees the SYN, the server's answer after the server's round trip, the ACK after the client's.
            c.Syn(start);
            if (i < resentSyns)
                c.Syn(start + 1); // the first SYN got no answer: the client's 1 s timer sent it again
            double synAck = start + (i < resentSyns ? 1 : 0) + 2 * serverDelay;
            c.SynAck(synAck).Ack(synAck + 2 * clientDelay).Data(synAck + 2 * clientDelay + 0.001, 10).ServerAck(synAck + 2 * clientDelay + 0.001 + 2 * serverDelay);
            packets.AddRange(c.Packets);
        }
        var report = new ExplainReport();
        var context = new AnalysisContext();
        var engine = new AnalysisEngine(context, report);
        foreach (var (at, ip) in packets.OrderBy(p => p.Item1))
        {
            Assert.True(TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
        engine.Finish();
        Assert.Equal(resentSyns + plain, report.Connections);
        Assert.Equal(0, report.HalfEstablished);
        var vantage = report.VantagePoint();
        Assert.True(vantage is not null, name);
        Assert.StartsWith(verdict, vantage);
        Assert.Contains(says, vantage);
        Assert.DoesNotContain("after 1.0", vantage); // the retransmission timer never shows as a gap
        Assert.Equal(plain, report.HandshakesUsed);
        Assert.Equal(resentSyns, report.HandshakesLeftOut);
    }

    [Fact]
    public void Handshakes_with_a_re_sent_syn_or_syn_ack_are_left_out_and_counted()
    {
        var h = new ExplainReport();
        h.SampleHandshake(new HandshakeTimes(SynAt: 1_000_000, SynAckAt: 1_000_050, AckAt: 1_040_000, SynAckResendsBeforeAck: 0, SynsBeforeSynAck: 2));
        h.SampleHandshake(new HandshakeTimes(SynAt: 10, SynAckAt: 60, AckAt: 40_000, SynAckResendsBeforeAck: 1, SynsBeforeSynAck: 1));
        Assert.Equal(0, h.HandshakesUsed);
        Assert.Equal(2, h.HandshakesLeftOut);
    }
}
