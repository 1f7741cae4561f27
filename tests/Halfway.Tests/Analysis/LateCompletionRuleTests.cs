using Halfway.Analysis;

namespace Halfway.Tests.Analysis;

/// <summary>
/// The second look at accepted connections whose first data the client re-sent: revised to a late completion
/// (<c>likely</c>, with the reason) only when other connections to the same listener were half-established in the same
/// burst. Packets go through the real engine and <see cref="ExplainReport"/>; the lab test with a real syncookie server
/// is <c>Cli.ExplainLateCompletionLabTests</c>.
/// </summary>
public sealed class LateCompletionRuleTests
{
    // A syncookie connection whose final ACK met a full queue: data re-sent 3 times, then acknowledged (the classifier's own evidence).
    private static Conversation CookieLate(int port, double start) => new Conversation($"10.0.0.2:{port}").Syn(start).SynAck(start + 0.01).Ack(start + 0.02)
        .Data(start + 0.3, 4).Retransmit(start + 0.5).Retransmit(start + 0.9).Retransmit(start + 1.7).ServerAck(start + 1.71);

    // First data re-sent once, then acknowledged: loss, or a queue that had room again by the re-send.
    private static Conversation OneResend(int port, double start) => new Conversation($"10.0.0.2:{port}").Syn(start).SynAck(start + 0.01).Ack(start + 0.02)
        .Data(start + 0.3, 4).Retransmit(start + 0.5).ServerAck(start + 0.51);

    private static Conversation Plain(int port, double start) => new Conversation($"10.0.0.2:{port}").Syn(start).SynAck(start + 0.01).Ack(start + 0.02)
        .Data(start + 0.3, 4).ServerAck(start + 0.31);

    public static TheoryData<string, int, int> Rows => new()
    {
        // shape, connections revised, half-established in all
        { "burst", 2, 5 },                 // 3 cookie-late + 2 one-resend in the same 0.1 s: both revised
        { "lone-on-quiet-listener", 0, 0 }, // one re-send, nothing else on the listener but plain connections
        { "far-from-the-burst", 0, 3 },     // the one-resend connection came 30 s after the burst
        { "burst-on-another-listener", 0, 3 },
        { "burst-of-revisable-only", 0, 0 }, // one-resends alone do not make each other half-established
    };

    private static IEnumerable<Conversation> Make(string shape) => shape switch
    {
        "burst" => [CookieLate(40001, 0), CookieLate(40002, 0.01), CookieLate(40003, 0.02), OneResend(40004, 0.05), OneResend(40005, 0.1), Plain(40006, 0)],
        "lone-on-quiet-listener" => [Plain(40001, 0), Plain(40002, 5), OneResend(40003, 10), Plain(40004, 15)],
        "far-from-the-burst" => [CookieLate(40001, 0), CookieLate(40002, 0.01), CookieLate(40003, 0.02), OneResend(40004, 30)],
        "burst-on-another-listener" => [
            new Conversation("10.0.0.2:40001", "10.0.0.1:9090").Syn(0).SynAck(0.01).Ack(0.02).Data(0.3, 4).Retransmit(0.5).Retransmit(0.9).Retransmit(1.7).ServerAck(1.71),
            new Conversation("10.0.0.2:40002", "10.0.0.1:9090").Syn(0).SynAck(0.01).Ack(0.02).Data(0.3, 4).Retransmit(0.5).Retransmit(0.9).Retransmit(1.7).ServerAck(1.71),
            new Conversation("10.0.0.2:40003", "10.0.0.1:9090").Syn(0).SynAck(0.01).Ack(0.02).Data(0.3, 4).Retransmit(0.5).Retransmit(0.9).Retransmit(1.7).ServerAck(1.71),
            OneResend(40004, 0.05)],
        "burst-of-revisable-only" => [OneResend(40001, 0), OneResend(40002, 0.01), OneResend(40003, 0.02)],
        _ => throw new ArgumentException(shape),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Row(string shape, int revised, int halfEstablished)
    {
        var report = new ExplainReport();
        var engine = new AnalysisEngine(new AnalysisContext { EndMicroseconds = Conversation.Epoch + 120_000_000 }, report);
        foreach (var (at, ip) in Make(shape).SelectMany(c => c.Packets).OrderBy(p => p.Microseconds))
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
        engine.Finish();

        var byCrossRule = report.Kept.Where(c => c.Confidence?.Reason.Contains("other connection(s) to this listener") == true).ToList();
        Assert.Equal(revised, byCrossRule.Count);
        Assert.Equal(halfEstablished, report.HalfEstablished);
        foreach (var c in byCrossRule)
        {
            Assert.Equal(Fate.AcceptedLate, c.Fate);
            Assert.True(c.HalfEstablished);
            Assert.Equal("likely", c.Confidence!.Name);
            Assert.Contains("first data was re-sent 1 time(s)", c.Confidence.Reason);
            Assert.Contains("3 other connection(s)", c.Confidence.Reason);
        }
        // Counts agree with the connections: the listener's likely verdicts include the revised ones.
        Assert.Equal(report.HalfEstablished, report.Listeners.Sum(l => l.HalfEstablished));
        Assert.Equal(report.HalfEstablished, report.Listeners.Sum(l => l.Certain + l.Likely));
        Assert.Equal(Make(shape).Count(), report.Connections);
        // Connections that stay plainly accepted are not listed (no report kept for them without --all).
        Assert.All(report.Kept, c => Assert.NotEqual(Fate.Accepted, c.Fate));
    }
}
