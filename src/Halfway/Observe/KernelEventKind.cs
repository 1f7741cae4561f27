namespace Halfway.Observe;

/// <summary>What the server's kernel says it did to a connection, from its tracepoints.</summary>
internal enum KernelEventKind
{
    /// <summary>skb:kfree_skb: a packet of the connection was dropped, with the kernel's drop reason.</summary>
    PacketDropped,
    /// <summary>tcp:tcp_retransmit_synack: a request socket re-sent its SYN-ACK.</summary>
    SynAckRetransmitted,
    /// <summary>tcp:tcp_send_reset: the kernel sent a RST.</summary>
    ResetSent,
    /// <summary>tcp:tcp_receive_reset: the kernel received a RST.</summary>
    ResetReceived,
}
