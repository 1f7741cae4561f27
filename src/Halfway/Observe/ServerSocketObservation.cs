using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// The server host's socket table changed for this connection (lab only, from sock_diag samples):
/// State is "SYN-RECV" (a request socket; Retransmits = SYN-ACKs it re-sent), "ESTABLISHED"
/// (a complete child, accepted or queued), another TCP state name, or "none" (the table no longer holds it).
/// </summary>
public sealed record ServerSocketObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    string State,
    int Retransmits) : Observation(AtMicroseconds);
