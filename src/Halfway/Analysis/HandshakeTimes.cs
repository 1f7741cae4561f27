namespace Halfway.Analysis;

/// <summary>
/// A connection's handshake as its evidence shows it: the times (µs, 0 when not in the evidence) of the SYN the server's
/// first SYN-ACK answered (the last SYN before it), that SYN-ACK and the client's ACK for it, how often the server re-sent
/// its SYN-ACK before that ACK, and how many SYNs the client sent before the SYN-ACK came (more than one: the client re-sent it).
/// </summary>
internal readonly record struct HandshakeTimes(long SynAt, long SynAckAt, long AckAt, int SynAckResendsBeforeAck, int SynsBeforeSynAck = 1);
