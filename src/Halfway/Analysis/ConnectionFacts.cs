namespace Halfway.Analysis;

/// <summary>
/// What the classifier established about one connection while it read the events: the moments that decided the fate,
/// in µs on the observation's clock (null: never seen), and the counts. The explainer and the reports read these
/// instead of searching the evidence again.
/// </summary>
internal readonly record struct ConnectionFacts
{
    /// <summary>The client's first SYN.</summary>
    public long? SynAt { get; init; }
    /// <summary>The SYN the first SYN-ACK answered: the last one before it (a re-sent SYN when the first ones got no answer).</summary>
    public long? AnsweredSynAt { get; init; }
    /// <summary>SYNs sent before the first SYN-ACK: more than one means the SYN-ACK's delay includes the client's retransmission timer.</summary>
    public int SynsBeforeSynAck { get; init; }
    /// <summary>SYN-ACKs re-sent before the client's ACK: then the ACK's delay includes the server's retransmission timer.</summary>
    public int SynAckResendsBeforeAck { get; init; }
    /// <summary>The server's SYN-ACK (its first; re-sends are counted apart).</summary>
    public long? SynAckAt { get; init; }
    /// <summary>The client's pure ACK of the SYN-ACK (null when the handshake's end was seen only as data).</summary>
    public long? HandshakeAckAt { get; init; }
    /// <summary>The lab's link dropped that ACK: the server never saw it.</summary>
    public bool HandshakeAckDroppedByLink { get; init; }
    /// <summary>Every SYN-ACK the server re-sent on its timer (not those answering a re-sent SYN).</summary>
    public int SynAckResends { get; init; }
    /// <summary>The first SYN-ACK re-sent after the client's ACK: the server had not taken that ACK.</summary>
    public long? FirstResendAfterAckAt { get; init; }
    /// <summary>The client's first new data or FIN, and whether it was a FIN alone.</summary>
    public long? FirstDataAt { get; init; }
    public bool FirstDataIsFin { get; init; }
    /// <summary>Client data or FINs sent again.</summary>
    public int ClientRetransmissions { get; init; }
    /// <summary>Of those, the ones sent while the server showed no complete connection and no bare RST.</summary>
    public int DataResendsBeforeServerAck { get; init; }
    /// <summary>The server's first bare RST (no ACK): it held no state for the client's segment.</summary>
    public long? BareRstAt { get; init; }
    /// <summary>The first client call that failed with ECONNRESET (lab).</summary>
    public long? CallResetAt { get; init; }
    /// <summary>The first socket-table sample that showed a request socket after the client's ACK had reached the server (lab).</summary>
    public long? RequestSocketAfterAckAt { get; init; }
    /// <summary>The first socket-table sample that held nothing for the connection (lab), and whether an earlier one had held it.</summary>
    public long? ServerSocketGoneAt { get; init; }
    public bool ServerTableHeldIt { get; init; }
    /// <summary>When a program server's complete socket was first missing from its table with no sign of an accept (lab).</summary>
    public long? AcceptUnknownAt { get; init; }
    /// <summary>Nothing from either side from the last event until observation ended, this long (µs; null: not silent).</summary>
    public long? SilenceAtEnd { get; init; }
}
