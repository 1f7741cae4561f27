using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Tests.Analysis;

/// <summary>
/// The causes `explain` lists for a listener, as a table: connections (real packets through the real engine) in, ranked
/// causes out. Each cause is listed with its evidence when that evidence is in the capture, and not claimed when it is not.
/// </summary>
public sealed class LikelyCauseTests
{
    private const string Overflow = "Accept-queue overflow";
    private const string AbortOnOverflow = "Accept-queue overflow, with net.ipv4.tcp_abort_on_overflow=1";
    private const string CannotTell = "Accept-queue overflow, a firewall or middlebox dropping final ACKs, or loss on the way";
    private const string Syncookies = "Syncookies: the listener's request queue was full too";
    private const string Expired = "The server's state expired silently before the client sent";
    private const string DeferAccept = "TCP_DEFER_ACCEPT on the listener";

    /// <summary>Connections by name; each starts 0.1 s after the one before, on its own client port.</summary>
    private static Conversation Make(string shape, int port, double t) => shape switch
    {
        "accepted" => new Conversation($"10.0.0.2:{port}").Syn(t).SynAck(t + 0.0001).Ack(t + 0.02).Data(t + 0.021, 10).ServerAck(t + 0.0211),
        // The final ACK not taken: the SYN-ACK re-sent after it, then data completes it.
        "ack-ignored" => new Conversation($"10.0.0.2:{port}").Syn(t).SynAck(t + 0.0001).Ack(t + 0.02).SynAck(t + 1.0001).Ack(t + 1.02).Data(t + 2, 10).ServerAck(t + 2.0001),
        // tcp_abort_on_overflow: the final ACK draws a bare RST at once.
        "reset-at-ack" => new Conversation($"10.0.0.2:{port}").Syn(t).SynAck(t + 0.0001).Ack(t + 0.02).BareRst(t + 0.0201),
        // Syncookie: no SYN-ACK re-sent; the first data is ignored and re-sent until the server completes it.
        "cookie-late" => new Conversation($"10.0.0.2:{port}").Syn(t).SynAck(t + 0.0001).Ack(t + 0.02).Data(t + 0.021, 10).Retransmit(t + 0.25).Retransmit(t + 0.7).Retransmit(t + 1.6).ServerAck(t + 1.6001),
        // The request expired (re-sends stopped), data after the silence drew a bare RST.
        "expired" => new Conversation($"10.0.0.2:{port}").Syn(t).SynAck(t + 0.0001).Ack(t + 0.02).SynAck(t + 1.0001).Ack(t + 1.02).SynAck(t + 3.0001).Ack(t + 3.02).Data(t + 9, 10).BareRst(t + 9.0001),
        // TCP_DEFER_ACCEPT: the first SYN-ACK re-send comes late (3 s), then data completes it.
        "deferred" => new Conversation($"10.0.0.2:{port}").Syn(t).SynAck(t + 0.0001).Ack(t + 0.02).SynAck(t + 3.0001).Ack(t + 3.02).Data(t + 3.5, 10).ServerAck(t + 3.5001),
        "syn-dropped" => new Conversation($"10.0.0.2:{port}").Syn(t).Syn(t + 1).Syn(t + 3),
        _ => throw new ArgumentException(shape),
    };

    public static TheoryData<string, string, string, string> Rows => new()
    {
        // connections, the causes listed in order ("support: name"), the evidence the first one must quote, causes that must not be claimed
        { "accepted ack-ignored ack-ignored ack-ignored", $"cannot tell from here: {CannotTell}", "3 re-sent the SYN-ACK after the client's ACK", $"{Overflow}|{AbortOnOverflow}|{Syncookies}" },
        { "accepted ack-ignored ack-ignored syn-dropped", $"supported: {Overflow}", "1 SYN(s) to the same listener got no answer", $"{CannotTell}|{AbortOnOverflow}" },
        { "accepted reset-at-ack ack-ignored", $"shown: {AbortOnOverflow}", "1 final ACK(s) drew a RST at once", $"{CannotTell}|{Overflow}" },
        { "accepted cookie-late cookie-late ack-ignored", $"supported: {Syncookies}|cannot tell from here: {CannotTell}", "2 show no re-sent SYN-ACK", $"{Overflow}|{AbortOnOverflow}" },
        { "accepted expired", $"supported: {Expired}|cannot tell from here: {CannotTell}", "1 drew a bare RST when the client sent after a silence", $"{Overflow}|{Syncookies}" },
        { "accepted deferred deferred", $"supported: {DeferAccept}", "2 re-sent their first SYN-ACK 2 s or more after the handshake", $"{Overflow}|{CannotTell}|{Syncookies}" },
        { "accepted syn-dropped", "cannot tell from here: SYNs dropped by the server or on the way", "1 SYN(s) got no answer", $"{Overflow}|{CannotTell}" },
        { "accepted accepted", "", "", $"{Overflow}|{CannotTell}|{AbortOnOverflow}|{Syncookies}|{Expired}|{DeferAccept}" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Row(string connections, string expected, string firstEvidence, string notClaimed)
    {
        var packets = new List<(long, byte[])>();
        int port = 40000;
        double t = 0;
        foreach (var shape in connections.Split(' '))
        {
            packets.AddRange(Make(shape, port++, t).Packets);
            t += 0.1;
        }
        var report = new ExplainReport();
        var engine = new AnalysisEngine(new AnalysisContext { EndMicroseconds = Conversation.Epoch + 30_000_000 }, report);
        foreach (var (at, ip) in packets.OrderBy(p => p.Item1))
        {
            Assert.True(TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
        engine.Finish();
        var listener = Assert.Single(report.Listeners);
        var causes = report.LikelyCauses(listener);
        var listed = string.Join("|", causes.Select(c => $"{c.SupportName}: {c.Name}"));
        Assert.Equal(expected, listed);
        if (causes.Count > 0)
            Assert.Contains(firstEvidence, causes[0].Evidence);
        Assert.All(causes, c => Assert.False(string.IsNullOrWhiteSpace(c.Confirm), c.Name));
        foreach (var name in notClaimed.Split('|'))
            Assert.DoesNotContain(causes, c => c.Name == name);
        Assert.DoesNotContain(causes, c => c.Name.Contains("most likely", StringComparison.OrdinalIgnoreCase));
    }
}
