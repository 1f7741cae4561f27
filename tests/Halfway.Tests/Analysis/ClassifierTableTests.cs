using System.Globalization;
using Halfway.Analysis;
using K = Halfway.Analysis.ConnectionEventKind;

namespace Halfway.Tests.Analysis;

/// <summary>
/// The classifier as a table, smoltcp style: events in, fate out. Events are "seconds:token"; tokens:
/// S SYN, S2 SYN again, SA SYN-ACK, SA~ SYN-ACK answering a SYN, SA+ SYN-ACK re-sent, RA RST|ACK to the SYN, A the client's
/// handshake ACK, a a client re-ACK, D data, D+ data re-sent, F FIN, R client RST, C a server segment from a complete socket,
/// RST a bare RST (seq = ISN+1); lab: connect, refused, connfail, data, reset, timeout, SYNRECV, EST, accept, gone.
/// </summary>
public sealed class ClassifierTableTests
{
    public static TheoryData<string, string, double, bool, string, bool, string?> Rows => new()
    {
        // name, events, end (s), server side observed, fate, half-established, kind
        { "accepted", "0:S 0.01:SA 0.02:A 0.03:D 0.04:C", 10, false, "accepted", false, null },
        { "accepted-late by re-ACK (request socket)", "0:S 0.01:SA 0.02:A 1.01:SA+ 1.02:a 3.01:SA+ 3.02:a 3.03:C", 10, false, "accepted-late", true, "request-socket" },
        { "accepted-late by data (syncookie)", "0:S 0.01:SA 0.02:A 0.03:D 0.3:D+ 0.9:D+ 2.1:D+ 2.11:C", 10, false, "accepted-late", true, "syncookie" },
        { "reset-on-data after request expiry", "0:S 0.01:SA 0.02:A 1:SA+ 1.01:a 3:SA+ 3.01:a 7:SA+ 15:SA+ 31:SA+ 100:D 100.001:RST", 110, false, "reset-on-data", true, "request-socket" },
        { "reset-on-data after cookie expiry", "0:S 0.01:SA 0.02:A 0.03:D 0.3:D+ 0.9:D+ 2:D+ 4:D+ 8:D+ 16:D+ 32:D+ 64:D+ 108:D+ 108.001:RST", 110, false, "reset-on-data", true, "syncookie" },
        { "reset-at-handshake (abort_on_overflow)", "0:S 0.01:SA 0.02:A 0.0201:RST", 5, false, "reset-at-handshake", true, "request-socket" },
        { "reset-at-handshake with data right behind", "0:S 0.01:SA 0.02:A 0.02:D 0.0201:RST", 5, false, "reset-at-handshake", true, "request-socket" },
        { "reset-at-handshake at the re-ACK of a re-sent SYN-ACK (abort_on_overflow, first ACK lost)", "0:S 0.01:SA 0.02:A 1.01:SA+ 1.02:a 1.0201:RST", 5, false, "reset-at-handshake", true, "request-socket" },
        { "reset-at-handshake at the second re-ACK", "0:S 0.01:SA 0.02:A 1.01:SA+ 1.02:a 3.01:SA+ 3.02:a 3.0201:RST 4:reset", 5, true, "reset-at-handshake", true, "request-socket" },
        { "lab: connect() seen before its dropped ACK, reset at the re-ACK", "0:S 0.005:SA 0.01:connect 0.0101:A- 1.008:SA+ 1.013:a 1.018:RST 4:reset", 5, true, "reset-at-handshake", true, "request-socket" },
        { "not at handshake: a keepalive probe (no SYN-ACK before it) drew the RST", "0:S 0.01:SA 0.02:A 1.52:a 1.5201:RST", 5, false, "reset-on-data", true, "syncookie" },
        { "not at handshake: data had been sent before the re-ACK's RST", "0:S 0.01:SA 0.02:A 0.03:D 1.01:SA+ 1.02:a 1.0201:RST", 5, false, "reset-on-data", true, "request-socket" },
        { "stranded (lab: request expired, client idle)", "0:S 0.01:SA 0.02:A 0.02:connect 0.5:SYNRECV 64:gone", 100, true, "stranded", true, "request-socket" },
        { "stranded (lab: cookie, client idle past cookie life)", "0:S 0.01:SA 0.02:A 0.02:connect", 200, true, "stranded", true, "syncookie" },
        { "still half-established (lab: cookie, young)", "0:S 0.01:SA 0.02:A 0.02:connect", 10, true, "still-half-established", true, "syncookie" },
        { "still half-established (SYN-ACKs still re-sent)", "0:S 0.01:SA 0.02:A 1:SA+ 1.01:a", 2, false, "still-half-established", true, "request-socket" },
        { "queued (lab)", "0:S 0.01:SA 0.02:A 0.02:connect 0.03:EST", 10, true, "queued", false, null },
        { "accepted (lab)", "0:S 0.01:SA 0.02:A 0.02:connect 0.03:EST 0.5:accept", 10, true, "accepted", false, null },
        { "accepted-late (lab: SYN-RECV after the ACK)", "0:S 0.01:SA 0.02:A 0.02:connect 0.1:SYNRECV 2:EST 2.5:accept", 10, true, "accepted-late", true, "request-socket" },
        { "reset-on-data (lab: call reset)", "0:S 0.01:SA 0.02:A 0.02:connect 0.03:D 100:reset", 110, true, "reset-on-data", true, "syncookie" },
        { "accepted-late (lab: table held nothing after the ACK, data completed it)", "0:S 0.01:SA 0.02:A 0.02:connect 0.07:gone 4:D 4.005:C 4.01:EST 4.01:accept 4.02:data", 10, true, "accepted-late", true, "syncookie" },
        { "stranded (lab: idle client, its FIN at close drew a RST)", "0:S 0.01:SA 0.02:A 0.02:connect 0.07:gone 12:timeout 12.01:F 12.011:RST", 13, true, "stranded", true, "syncookie" },
        { "stranded (packets: the only client segment, a FIN, drew a RST)", "0:S 0.01:SA 0.02:A 12.01:F 12.011:RST", 13, false, "stranded", true, null },
        { "syn-dropped", "0:S 1:S2 2:S2 3:S2", 10, false, "syn-dropped", false, null },
        { "syn-dropped (lab: connect timed out)", "0:S 0.5:connfail", 10, true, "syn-dropped", false, null },
        { "refused", "0:S 0.001:RA", 1, false, "refused", false, null },
        { "unknown: start not captured", "0:D 0.01:C", 10, false, "unknown", false, null },
        { "unknown: idle after the handshake", "0:S 0.01:SA 0.02:A", 100, false, "unknown", false, null },
        { "unknown: handshake in progress at the end", "0:S", 0.5, false, "unknown", false, null },
        { "unknown: re-sends stopped, nothing after", "0:S 0.01:SA 0.02:A 1:SA+ 1.01:a 3:SA+ 3.01:a", 60, false, "unknown", true, "request-socket" },
        { "client-aborted", "0:S 0.01:SA 0.02:A 1:SA+ 1.01:a 3:SA+ 3.01:a 5:R", 10, false, "client-aborted", true, "request-socket" },
        // Look-alikes that must not be half-established.
        { "look-alike: SYN-ACK answering a re-sent SYN", "0:S 1:S2 1.005:SA 1.005:A 1.006:SA~ 1.01:D 1.02:C", 10, false, "accepted", false, null },
        { "look-alike: SYN-ACK re-sends with no client ACK (scan, flood)", "0:S 0.001:SA 1:SA+ 3:SA+ 7:SA+", 70, false, "handshake-incomplete", false, null },
        { "look-alike: RST after FIN", "0:S 0.01:SA 0.02:A 0.03:D 0.04:C 0.05:C 0.06:F 0.061:RST", 10, false, "accepted", false, null },
        { "look-alike: one lost data segment", "0:S 0.01:SA 0.02:A 0.03:D 0.25:D+ 0.26:C", 10, false, "accepted", false, null },
        { "near the server one ignored segment is evidence", "0:S 0.00005:SA 0.02:A 0.0201:D 0.25:D+ 0.2501:C", 10, false, "accepted-late", true, null },
        { "near the client one unanswered segment is not", "0:S 0.02:SA 0.02005:A 0.0201:D 0.25:D+ 0.27:C", 10, false, "accepted", false, null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Row(string name, string events, double endSeconds, bool serverSide, string fate, bool halfEstablished, string? kind)
    {
        var classifier = new ConnectionClassifier();
        foreach (var e in Parse(events))
            classifier.Apply(e);
        var verdict = classifier.Finish((long)(endSeconds * 1_000_000), serverSide);
        Assert.True(FateNames.Name(verdict.Fate) == fate, $"{name}: fate expected {fate} vs actual {FateNames.Name(verdict.Fate)} ({verdict.Reason})");
        Assert.True(verdict.HalfEstablished == halfEstablished, $"{name}: half_established expected {halfEstablished} vs actual {verdict.HalfEstablished}");
        Assert.True(verdict.Kind == kind, $"{name}: kind expected {kind ?? "null"} vs actual {verdict.Kind ?? "null"}");
        Assert.NotEmpty(verdict.Evidence);
        if (events.Contains(":A", StringComparison.Ordinal))
            Assert.True(verdict.Evidence.Any(e => e.Kind == K.ClientHandshakeAck), $"{name}: the handshake's ACK is missing from the evidence");
        Assert.True(verdict.Evidence.Zip(verdict.Evidence.Skip(1)).All(p => p.First.AtMicroseconds <= p.Second.AtMicroseconds), $"{name}: evidence out of order");

        // Without the evidence (what the engine does first for every connection): the same decision, and no verdict.
        classifier.Reset(keepEvidence: false);
        foreach (var e in Parse(events))
            classifier.Apply(e);
        var decision = classifier.Decide((long)(endSeconds * 1_000_000), serverSide);
        Assert.Equal((verdict.Fate, verdict.HalfEstablished, verdict.Kind, verdict.Reason), (decision.Fate, decision.HalfEstablished, decision.Kind, decision.Reason));
        Assert.Throws<InvalidOperationException>(() => classifier.Finish(decision, (long)(endSeconds * 1_000_000)));
    }

    internal static IEnumerable<ConnectionEvent> Parse(string events)
    {
        foreach (var item in events.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = item.Split(':');
            long at = (long)Math.Round(double.Parse(parts[0], CultureInfo.InvariantCulture) * 1_000_000);
            yield return parts[1] switch
            {
                "S" => new(K.ClientSyn, at),
                "S2" => new(K.ClientSynRetransmitted, at),
                "SA" => new(K.ServerSynAck, at),
                "SA~" => new(K.ServerSynAckAnsweringSyn, at),
                "SA+" => new(K.ServerSynAckResent, at),
                "RA" => new(K.ServerRefused, at),
                "A" => new(K.ClientHandshakeAck, at),
                "A-" => new(K.ClientHandshakeAck, at, -1), // dropped by the lab's link
                "a" => new(K.ClientAck, at),
                "D" => new(K.ClientData, at, 5),
                "D+" => new(K.ClientRetransmission, at, 5),
                "F" => new(K.ClientFin, at),
                "R" => new(K.ClientRst, at),
                "C" => new(K.ServerCompleteSocket, at, (long)Halfway.Wire.TcpFlags.Ack << 32),
                "RST" => new(K.ServerBareRst, at, 1),
                "connect" => new(K.CallConnectOk, at),
                "refused" => new(K.CallConnectRefused, at),
                "connfail" => new(K.CallConnectFailed, at),
                "data" => new(K.CallGotData, at),
                "reset" => new(K.CallReset, at),
                "timeout" => new(K.CallTimeout, at),
                "SYNRECV" => new(K.ServerRequestSocket, at, 1),
                "EST" => new(K.ServerEstablished, at),
                "accept" => new(K.ServerAccepted, at),
                "gone" => new(K.ServerSocketGone, at),
                var other => throw new ArgumentException($"unknown token {other} in \"{item}\""),
            };
        }
    }
}
