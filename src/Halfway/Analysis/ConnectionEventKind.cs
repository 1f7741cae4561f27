namespace Halfway.Analysis;

/// <summary>
/// The typed events the classifier consumes. The flow tracker derives them from packets (it knows the ISNs and the
/// sequence space), from the client's socket calls and from the server's socket table, so the classifier never parses.
/// </summary>
internal enum ConnectionEventKind : byte
{
    ClientSyn,
    ClientSynRetransmitted,
    ServerSynAck,
    /// <summary>The same SYN-ACK again, closely following a retransmitted SYN: an answer to it, not a timer re-send.</summary>
    ServerSynAckAnsweringSyn,
    /// <summary>The same SYN-ACK (same server ISN) again, not answering a SYN: the request socket's retransmit timer.</summary>
    ServerSynAckResent,
    /// <summary>A RST|ACK answering the SYN: nothing listens.</summary>
    ServerRefused,
    /// <summary>The client's ACK of the SYN-ACK: the client is connected. Value: when it reached the server (lab link), 0 when not known, -1 when the lab's link dropped it.</summary>
    ClientHandshakeAck,
    /// <summary>A pure ACK from the client after the handshake (e.g. the re-ACK of a re-sent SYN-ACK). Value: -1 when the lab's link dropped it, else 0.</summary>
    ClientAck,
    /// <summary>New client data. Value: payload bytes.</summary>
    ClientData,
    /// <summary>Client data or FIN sent again, not yet acknowledged by the server. Value: payload bytes.</summary>
    ClientRetransmission,
    ClientFin,
    ClientRst,
    /// <summary>A server segment only a complete socket sends (an ACK of data, data, a FIN, a RST|ACK abort).</summary>
    ServerCompleteSocket,
    /// <summary>A RST without ACK (seq = the client's ACK): the server found no state for the client's segment. Value: the RST's seq relative to the server ISN.</summary>
    ServerBareRst,
    CallConnectOk,
    CallConnectRefused,
    CallConnectFailed,
    /// <summary>A send or receive returned data from the server's application: it accepted.</summary>
    CallGotData,
    CallReset,
    CallTimeout,
    /// <summary>sock_diag: a request socket in SYN-RECV. Value: SYN-ACKs it re-sent.</summary>
    ServerRequestSocket,
    /// <summary>sock_diag: a complete child socket (ESTABLISHED or a later state).</summary>
    ServerEstablished,
    ServerAccepted,
    /// <summary>A program server's complete socket left the table with no sign of an accept: whether it was accepted is unknown.</summary>
    ServerAcceptUnknown,
    /// <summary>sock_diag: the server's table no longer holds the connection.</summary>
    ServerSocketGone,
    /// <summary>Synthesised at the end: nothing from either side since the last event. Value: seconds of silence in µs.</summary>
    Silence,
}
