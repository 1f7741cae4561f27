using Halfway.Analysis;

namespace Halfway.Tests.Analysis;

/// <summary>
/// The confidence of half-established verdicts, from real packets through the real engine: <c>certain</c> when the
/// server's side shows it (a SYN-ACK re-sent after the ACK, a RST at the ACK, a bare RST answering data), <c>likely</c>
/// with the reason when only the client's re-sent data shows it; none for a connection that was not half-established.
/// </summary>
public sealed class VerdictConfidenceTests
{
    public static TheoryData<string, string?, string?> Rows => new()
    {
        // shape, confidence (null: not half-established), a phrase of the reason
        { "request-socket", "certain", "re-sent its SYN-ACK after the client's ACK" },
        { "abort-on-overflow", "certain", "drew a RST at once" },
        { "cookie-expired", "certain", "a bare RST answered the client's segment" },
        { "cookie-late", "likely", "the client's data was re-sent 3 time(s) before the server acknowledged it" },
        { "lone-lost-segment", null, null },
        { "accepted", null, null },
    };

    private static Conversation Make(string shape) => shape switch
    {
        "request-socket" => new Conversation().Syn(0).SynAck(0.0001).Ack(0.02).SynAck(1.0001).Ack(1.02).Data(2, 10).ServerAck(2.0001),
        "abort-on-overflow" => new Conversation().Syn(0).SynAck(0.0001).Ack(0.02).BareRst(0.0201),
        "cookie-expired" => new Conversation().Syn(0).SynAck(0.01).Ack(0.02).Data(0.03, 10).Retransmit(0.3).Retransmit(0.9).Retransmit(2).Retransmit(4).Retransmit(8)
            .Retransmit(16).Retransmit(32).Retransmit(64).Retransmit(108).BareRst(108.001),
        "cookie-late" => new Conversation().Syn(0).SynAck(0.01).Ack(0.02).Data(0.03, 10).Retransmit(0.3).Retransmit(0.9).Retransmit(2.1).ServerAck(2.11),
        // One data segment lost on a quiet listener: re-sent once, then acknowledged: ordinary loss.
        "lone-lost-segment" => new Conversation().Syn(0).SynAck(0.01).Ack(0.02).Data(0.03, 10).Retransmit(0.25).ServerAck(0.26),
        "accepted" => new Conversation().Syn(0).SynAck(0.01).Ack(0.02).Data(0.03, 10).ServerAck(0.04),
        _ => throw new ArgumentException(shape),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Row(string shape, string? confidence, string? reason)
    {
        var report = new ExplainReport();
        var engine = new AnalysisEngine(new AnalysisContext { EndMicroseconds = Conversation.Epoch + 120_000_000 }, report);
        foreach (var (at, ip) in Make(shape).Packets.OrderBy(p => p.Microseconds))
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
        engine.Finish();
        var listener = Assert.Single(report.Listeners);
        if (confidence is null)
        {
            Assert.Equal(0, report.HalfEstablished);
            Assert.All(report.Kept, c => Assert.Null(c.Confidence));
            return;
        }
        var connection = Assert.Single(report.Kept);
        Assert.True(connection.HalfEstablished, shape);
        Assert.Equal(confidence, connection.Confidence?.Name);
        Assert.Contains(reason!, connection.Confidence!.Reason);
        Assert.Equal(confidence == "certain" ? 1 : 0, listener.Certain);
        Assert.Equal(confidence == "likely" ? 1 : 0, listener.Likely);
    }
}
