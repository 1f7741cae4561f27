using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// The server kernel's own word about one connection (from a tracepoint): what it did and, for a drop, its reason as the
/// kernel names it (e.g. TCP_LISTEN_OVERFLOW). The analysis puts it on the connection's timeline beside the packets.
/// </summary>
internal sealed record KernelEventObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    KernelEventKind Kind,
    string? Reason = null) : Observation(AtMicroseconds);
