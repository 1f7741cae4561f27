using Halfway.Wire;

namespace Halfway.Tests.Wire;

/// <summary>The one definition of the handshake's final ACK, as a table: segment in, verdict out.</summary>
public sealed class FinalHandshakeAckTests
{
    private static readonly IpEndpoint Client = IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.2:40000"));
    private static readonly IpEndpoint Server = IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.1:8080"));
    private const uint ClientIsn = 1000, ServerIsn = 900_000;

    public static TheoryData<string, int, uint, uint, int, bool> Rows => new()
    {
        // name, flags, seq, ack, payload, is the final ACK (both ISNs known)
        { "pure ACK after the SYN", (int)(TcpFlags.Ack), ClientIsn + 1, ServerIsn + 1, 0, true },
        { "pure ACK with ECE (still pure)", (int)(TcpFlags.Ack | TcpFlags.Ece), ClientIsn + 1, ServerIsn + 1, 0, true },
        { "ACK carrying data", (int)(TcpFlags.Ack | TcpFlags.Psh), ClientIsn + 1, ServerIsn + 1, 4, false },
        { "FIN|ACK", (int)(TcpFlags.Fin | TcpFlags.Ack), ClientIsn + 1, ServerIsn + 1, 0, false },
        { "RST|ACK", (int)(TcpFlags.Rst | TcpFlags.Ack), ClientIsn + 1, ServerIsn + 1, 0, false },
        { "the SYN", (int)(TcpFlags.Syn), ClientIsn, 0, 0, false },
        { "ACK after data (later sequence)", (int)(TcpFlags.Ack), ClientIsn + 5, ServerIsn + 1, 0, false },
        { "ACK of another SYN-ACK", (int)(TcpFlags.Ack), ClientIsn + 1, ServerIsn + 7, 0, false },
        { "keepalive probe (sequence one behind)", (int)(TcpFlags.Ack), ClientIsn, ServerIsn + 1, 0, false },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Row(string name, int flags, uint seq, uint ack, int payload, bool expected)
    {
        var segment = new TcpSegment(Client, Server, seq, ack, (TcpFlags)flags, 64240, payload);
        Assert.True(FinalHandshakeAck.Is(segment, ClientIsn, ServerIsn) == expected, name);
        // What each user knows: the link the client's ISN, the flow tracker the server's; neither may disagree where it can tell.
        if (expected)
        {
            Assert.True(FinalHandshakeAck.Is(segment, ClientIsn, serverIsn: null), $"{name}: by the client's ISN");
            Assert.True(FinalHandshakeAck.Is(segment, clientIsn: null, ServerIsn), $"{name}: by the server's ISN");
            Assert.True(FinalHandshakeAck.AcknowledgesSynAck(segment, ServerIsn), name);
        }
    }
}
