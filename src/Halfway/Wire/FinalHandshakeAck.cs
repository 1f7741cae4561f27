namespace Halfway.Wire;

/// <summary>
/// The handshake's final ACK: the client's segment that acknowledges the server's SYN-ACK and carries nothing else (no
/// data, no FIN, no SYN, no RST). It is the segment a full accept queue drops silently and abort-on-overflow answers
/// with a RST, so the flow tracker, the lab link's drop rules and the run analysis must agree on which one it is: this
/// is the one definition they use.
/// </summary>
internal static class FinalHandshakeAck
{
    private const TcpFlags Carried = TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Fin | TcpFlags.Ack;

    /// <summary>
    /// True when <paramref name="segment"/>, sent by the client, is a pure ACK that follows its SYN (sequence = the
    /// client's ISN + 1, checked when <paramref name="clientIsn"/> is known) and acknowledges the server's SYN (= the
    /// server's ISN + 1, checked when <paramref name="serverIsn"/> is known).
    /// </summary>
    public static bool Is(in TcpSegment segment, uint? clientIsn, uint? serverIsn) =>
        (segment.Flags & Carried) == TcpFlags.Ack && segment.PayloadLength == 0
        && (clientIsn is not { } client || segment.Sequence == client + 1)
        && (serverIsn is not { } server || segment.Acknowledgment == server + 1);

    /// <summary>True when the client's segment acknowledges the server's SYN: the handshake's end, with or without data riding on it.</summary>
    public static bool AcknowledgesSynAck(in TcpSegment segment, uint serverIsn) =>
        (segment.Flags & (TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack)) == TcpFlags.Ack && segment.Acknowledgment == serverIsn + 1;
}
