using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// One TCP socket as sock_diag reports it. For a LISTEN socket <see cref="ReceiveQueue"/> is the
/// accept queue's length and <see cref="SendQueue"/> its limit; for a request socket (SYN-RECV)
/// <see cref="Retransmits"/> is the number of SYN-ACKs re-sent and <see cref="ExpiresMilliseconds"/>
/// the time left on its timer. <see cref="Drops"/> is the socket's skmem drop count (ss -tm: d).
/// </summary>
internal readonly record struct SocketRecord(
    TcpState State,
    IpEndpoint Local,
    IpEndpoint Remote,
    uint ReceiveQueue,
    uint SendQueue,
    int Retransmits,
    uint ExpiresMilliseconds,
    ulong Inode,
    uint Drops);
