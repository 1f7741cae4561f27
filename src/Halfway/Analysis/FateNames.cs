namespace Halfway.Analysis;

/// <summary>The stable kebab-case names of fates, used in every output, and a one-line meaning of each.</summary>
internal static class FateNames
{
    public static string Name(Fate fate) => fate switch
    {
        Fate.Accepted => "accepted",
        Fate.AcceptedLate => "accepted-late",
        Fate.Queued => "queued",
        Fate.ResetOnData => "reset-on-data",
        Fate.ResetAtHandshake => "reset-at-handshake",
        Fate.Stranded => "stranded",
        Fate.StillHalfEstablished => "still-half-established",
        Fate.HandshakeIncomplete => "handshake-incomplete",
        Fate.ClientAborted => "client-aborted",
        Fate.SynDropped => "syn-dropped",
        Fate.Refused => "refused",
        _ => "unknown",
    };

    public static bool TryParse(string name, out Fate fate)
    {
        foreach (var candidate in Enum.GetValues<Fate>())
            if (Name(candidate) == name)
            {
                fate = candidate;
                return true;
            }
        fate = Fate.Unknown;
        return false;
    }

    public static string Meaning(Fate fate) => fate switch
    {
        Fate.Accepted => "the server completed the handshake when the client's ACK arrived, so it was never half-established (connect() itself may still have waited for re-sent SYNs)",
        Fate.AcceptedLate => "half-established for a while, then completed by a re-sent ACK or by the client's data",
        Fate.Queued => "complete in the server's kernel but never accepted by the application",
        Fate.ResetOnData => "the server had forgotten the connection; the client's next segment drew a bare RST",
        Fate.ResetAtHandshake => "the final ACK, or the client's re-ACK of a re-sent SYN-ACK, drew a RST at once (tcp_abort_on_overflow=1)",
        Fate.Stranded => "the client thinks it is connected, the server holds nothing, and nothing will tell the client",
        Fate.StillHalfEstablished => "still half-established when observation ended",
        Fate.HandshakeIncomplete => "the client never acknowledged the SYN-ACK (scan, SYN flood, or a client that gave up): not half-established",
        Fate.ClientAborted => "half-established, then the client reset it itself before the server completed it",
        Fate.SynDropped => "the SYN got no answer",
        Fate.Refused => "the SYN was answered with a RST: nothing listening",
        _ => "the evidence does not decide the fate",
    };
}
