namespace Halfway.Analysis;

/// <summary>How a connection ended up, seen from both sides. Names in output are kebab-case (<see cref="FateNames"/>).</summary>
internal enum Fate
{
    /// <summary>The server's kernel completed the handshake when the client's ACK arrived: never half-established (and, when the lab can tell, the application accepted it).</summary>
    Accepted,
    /// <summary>Half-established for a while, then completed by a re-sent ACK or by the client's data.</summary>
    AcceptedLate,
    /// <summary>Complete in the server's kernel but never accepted by the application (lab only: needs the server's view).</summary>
    Queued,
    /// <summary>The server had forgotten the connection; a later client segment drew a bare RST (seq = server ISN + 1).</summary>
    ResetOnData,
    /// <summary>The final ACK, or the re-ACK of a re-sent SYN-ACK, drew a RST at once (tcp_abort_on_overflow=1 with a full accept queue).</summary>
    ResetAtHandshake,
    /// <summary>The client thinks it is connected, the server holds nothing, and nothing will tell the client (it is not sending).</summary>
    Stranded,
    /// <summary>Still half-established when observation ended: the server had not completed it and the outcome was not yet decided.</summary>
    StillHalfEstablished,
    /// <summary>The server answered the SYN but the client never acknowledged the SYN-ACK (a scan, a SYN flood, a client that gave up): not half-established.</summary>
    HandshakeIncomplete,
    /// <summary>Half-established, then the client reset the connection itself (its own timeout) before the server completed it.</summary>
    ClientAborted,
    /// <summary>The client's SYNs got no answer (dropped: full accept queue, full request queue with syncookies off, or a firewall).</summary>
    SynDropped,
    /// <summary>The server answered the SYN with a RST: no listener on that port.</summary>
    Refused,
    /// <summary>The evidence is incomplete (the capture missed the start, or nothing after the handshake tells the cases apart).</summary>
    Unknown,
}
