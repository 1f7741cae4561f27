using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>Words for events: a sentence for evidence, a short label for timelines and diagrams, and the column it belongs to.</summary>
internal static class EventText
{
    public static string Sentence(in ConnectionEvent e) => e.Kind switch
    {
        ConnectionEventKind.ClientSyn => "the client sent its SYN",
        ConnectionEventKind.ClientSynRetransmitted => "the client re-sent its SYN (no SYN-ACK had reached it)",
        ConnectionEventKind.ServerSynAck => "the server answered with a SYN-ACK",
        ConnectionEventKind.ServerSynAckAnsweringSyn => "the server sent its SYN-ACK again, answering the re-sent SYN",
        ConnectionEventKind.ServerSynAckResent => "the server re-sent its SYN-ACK (same ISN): it had not completed the handshake",
        ConnectionEventKind.ServerRefused => "the server answered the SYN with RST|ACK: nothing listening",
        ConnectionEventKind.ClientHandshakeAck => e.Value < 0
            ? "the client ACKed the SYN-ACK: its connect() returned (the lab's link dropped this ACK: the server never saw it)"
            : "the client ACKed the SYN-ACK: its connect() returned",
        ConnectionEventKind.ClientAck => e.Value < 0 ? "the client ACKed again (the lab's link dropped this ACK)" : "the client ACKed again",
        ConnectionEventKind.ClientData => $"the client sent {e.Value} bytes of data",
        ConnectionEventKind.ClientRetransmission => e.Value > 0 ? $"the client re-sent {e.Value} bytes: no acknowledgement had come" : "the client re-sent its FIN: no acknowledgement had come",
        ConnectionEventKind.ClientFin => "the client sent a FIN (closed its side)",
        ConnectionEventKind.ClientRst => "the client sent a RST",
        ConnectionEventKind.ServerCompleteSocket => ServerSegmentSentence(e.Value),
        ConnectionEventKind.ServerBareRst => e.Value == 1
            ? "the server answered with a bare RST (seq = its ISN + 1): it held no state for the connection"
            : "the server answered with a bare RST: it held no state for the connection",
        ConnectionEventKind.CallConnectOk => "connect() returned",
        ConnectionEventKind.CallConnectRefused => "connect() failed: connection refused",
        ConnectionEventKind.CallConnectFailed => "connect() failed",
        ConnectionEventKind.CallGotData => "the client received from the server's application",
        ConnectionEventKind.CallReset => "a client call failed with ECONNRESET",
        ConnectionEventKind.CallTimeout => "a client call timed out",
        ConnectionEventKind.ServerRequestSocket => $"the server's socket table showed a request socket in SYN-RECV ({e.Value} SYN-ACKs re-sent)",
        ConnectionEventKind.ServerEstablished => "the server's socket table showed a complete connection",
        ConnectionEventKind.ServerAccepted => "the server's application accepted it",
        ConnectionEventKind.ServerAcceptUnknown => "its complete socket left the server's table with no sign of an accept: accepted or not is unknown",
        ConnectionEventKind.ServerSocketGone => e.Value > 0
            ? "the server's socket table no longer held the connection"
            : "the server's socket table held nothing for the connection (no request socket, no complete socket)",
        ConnectionEventKind.Silence => $"nothing from either side for {TimeText.Duration(e.Value)}, until observation ended",
        _ => e.Kind.ToString(),
    };

    private static string ServerSegmentSentence(long value)
    {
        var flags = (TcpFlags)(value >> 32);
        int length = (int)(value & 0xffffffff);
        if ((flags & TcpFlags.Rst) != 0)
            return "the server's complete socket reset the connection (RST|ACK)";
        if ((flags & TcpFlags.Fin) != 0)
            return "the server sent a FIN: it held a complete connection";
        return length > 0 ? $"the server sent {length} bytes: it held a complete connection" : "the server ACKed: it held a complete connection";
    }

    /// <summary>A short label in tcpdump's spirit for diagrams: "SYN", "SYN-ACK (re-sent)", "ACK", "data 5 B", "RST".</summary>
    public static string Label(in ConnectionEvent e) => e.Kind switch
    {
        ConnectionEventKind.ClientSyn => "SYN",
        ConnectionEventKind.ClientSynRetransmitted => "SYN (again)",
        ConnectionEventKind.ServerSynAck => "SYN-ACK",
        ConnectionEventKind.ServerSynAckAnsweringSyn => "SYN-ACK (answers SYN)",
        ConnectionEventKind.ServerSynAckResent => "SYN-ACK (re-sent)",
        ConnectionEventKind.ServerRefused => "RST|ACK",
        ConnectionEventKind.ClientHandshakeAck => "ACK",
        ConnectionEventKind.ClientAck => "ACK",
        ConnectionEventKind.ClientData => $"data {e.Value} B",
        ConnectionEventKind.ClientRetransmission => e.Value > 0 ? $"data {e.Value} B (again)" : "FIN (again)",
        ConnectionEventKind.ClientFin => "FIN",
        ConnectionEventKind.ClientRst => "RST",
        ConnectionEventKind.ServerCompleteSocket => ServerSegmentLabel(e.Value),
        ConnectionEventKind.ServerBareRst => e.Value == 1 ? "RST (seq=ISN+1)" : "RST",
        ConnectionEventKind.CallConnectOk => "connect() ok",
        ConnectionEventKind.CallConnectRefused => "connect() refused",
        ConnectionEventKind.CallConnectFailed => "connect() failed",
        ConnectionEventKind.CallGotData => "got data",
        ConnectionEventKind.CallReset => "ECONNRESET",
        ConnectionEventKind.CallTimeout => "timeout",
        ConnectionEventKind.ServerRequestSocket => "SYN-RECV",
        ConnectionEventKind.ServerEstablished => "ESTABLISHED",
        ConnectionEventKind.ServerAccepted => "accept()",
        ConnectionEventKind.ServerAcceptUnknown => "accept unknown",
        ConnectionEventKind.ServerSocketGone => "gone",
        ConnectionEventKind.Silence => $"silence {TimeText.Duration(e.Value)}",
        _ => e.Kind.ToString(),
    };

    private static string ServerSegmentLabel(long value)
    {
        var flags = (TcpFlags)(value >> 32);
        int length = (int)(value & 0xffffffff);
        if ((flags & TcpFlags.Rst) != 0)
            return "RST|ACK";
        string name = (flags & TcpFlags.Fin) != 0 ? "FIN" : length > 0 ? $"data {length} B" : "ACK";
        return name;
    }

    public static TimelineColumn Column(ConnectionEventKind kind) => kind switch
    {
        ConnectionEventKind.ClientSyn or ConnectionEventKind.ClientSynRetransmitted or ConnectionEventKind.ClientHandshakeAck
            or ConnectionEventKind.ClientAck or ConnectionEventKind.ClientData or ConnectionEventKind.ClientRetransmission
            or ConnectionEventKind.ClientFin or ConnectionEventKind.ClientRst => TimelineColumn.WireToServer,
        ConnectionEventKind.ServerSynAck or ConnectionEventKind.ServerSynAckAnsweringSyn or ConnectionEventKind.ServerSynAckResent
            or ConnectionEventKind.ServerRefused or ConnectionEventKind.ServerCompleteSocket or ConnectionEventKind.ServerBareRst => TimelineColumn.WireToClient,
        ConnectionEventKind.CallConnectOk or ConnectionEventKind.CallConnectRefused or ConnectionEventKind.CallConnectFailed
            or ConnectionEventKind.CallGotData or ConnectionEventKind.CallReset or ConnectionEventKind.CallTimeout => TimelineColumn.Client,
        _ => TimelineColumn.Server,
    };

    /// <summary>Kebab-case name of an event kind for JSON ("server-syn-ack-resent").</summary>
    public static string KindName(ConnectionEventKind kind)
    {
        var text = kind.ToString();
        var builder = new System.Text.StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsUpper(text[i]) && i > 0)
                builder.Append('-');
            builder.Append(char.ToLowerInvariant(text[i]));
        }
        return builder.ToString();
    }
}
