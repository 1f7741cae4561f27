namespace Halfway.Analysis;

/// <summary>
/// A connection's handshake as its evidence shows it: the times (µs, 0 when not in the evidence) of the client's SYN, the
/// server's SYN-ACK and the client's ACK for it, and how often the server re-sent its SYN-ACK.
/// </summary>
internal readonly record struct HandshakeTimes(long SynAt, long SynAckAt, long AckAt, int SynAckResends);
