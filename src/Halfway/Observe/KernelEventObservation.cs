using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// The server kernel's own word about one connection (from a tracepoint): what it did and, for a drop, its reason as the
/// kernel names it (e.g. TCP_LISTEN_OVERFLOW). The analysis puts it on the connection's timeline beside the packets.
/// For a dropped packet, <see cref="Flags"/> are the packet's and <see cref="Listener"/> is the listener the kernel
/// handed it to (with its accept queue at that moment), when the kernel said.
/// </summary>
internal sealed record KernelEventObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    KernelEventKind Kind,
    string? Reason = null) : Observation(AtMicroseconds)
{
    public TcpFlags? Flags { get; init; }
    public KernelListenerState? Listener { get; init; }
    /// <summary>The dropped packet travelled from the client to the server (the usual case on the server's kernel).</summary>
    public bool FromClient { get; init; } = true;
}
