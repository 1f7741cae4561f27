namespace Halfway.Observe;

/// <summary>TCP states as the kernel numbers them (include/net/tcp_states.h). Request sockets report <see cref="SynRecv"/>.</summary>
internal enum TcpState : byte
{
    Established = 1,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
}
