namespace Halfway.Analysis;

/// <summary>
/// How sure a half-established verdict is: <c>certain</c> when the wire (or the lab's socket table) shows the server
/// without a complete connection after the client's ACK; <c>likely</c>, with the reason, when only the client's side
/// shows it (data ignored and re-sent: a syncookie server with a full queue, or loss on the way).
/// </summary>
internal sealed record VerdictConfidence(bool Certain, string Reason)
{
    public string Name => Certain ? "certain" : "likely";

    /// <summary>The confidence of a half-established verdict; null for a connection that was not half-established.</summary>
    public static VerdictConfidence? Of(ConnectionReport report)
    {
        if (!report.HalfEstablished)
            return null;
        var facts = report.Facts;
        if (facts.FirstResendAfterAckAt is not null)
            return new(true, "the server re-sent its SYN-ACK after the client's ACK: it had not completed the handshake");
        if (report.Fate == Fate.ResetAtHandshake)
            return new(true, "the client's final ACK drew a RST at once: the server refused to complete the handshake");
        if (facts.BareRstAt is not null)
            return new(true, "a bare RST answered the client's segment: the server held no state for the connection");
        if (facts.RequestSocketAfterAckAt is not null || facts.ServerSocketGoneAt is not null)
            return new(true, "the server's socket table held no complete connection after the client's ACK");
        if (facts.ClientRetransmissions > 0)
            return new(false, $"the client's data was re-sent {facts.ClientRetransmissions} time(s) before the server acknowledged it: a syncookie server ignoring it while its queue was full looks like this, and so does loss on the way");
        return new(false, "the wire shows it only indirectly: no SYN-ACK was re-sent after the ACK and no RST answered after a silence");
    }
}
