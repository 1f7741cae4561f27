using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// One listening address at one sample. Sockets sharing an address and port (SO_REUSEPORT) are
/// summed, because the kernel cannot say which of them a request socket belongs to.
/// </summary>
internal sealed record ListenerSample(
    IpEndpoint Address,
    int Sockets,
    long AcceptQueue,
    long AcceptQueueLimit,
    int SynRecv,
    int SynRecvResending,
    long Drops,
    long DropsDelta)
{
    /// <summary>The kernel refuses a new child when the queue holds more than its limit (sk_acceptq_is_full): backlog + 1.</summary>
    public bool AcceptQueueFull => AcceptQueue > AcceptQueueLimit;
}
