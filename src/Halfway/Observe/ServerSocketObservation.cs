using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// The server host's socket table changed for this connection (lab only, from sock_diag samples):
/// State is SynRecv (a request socket; Retransmits = SYN-ACKs it re-sent), Established (a complete child, accepted or
/// queued), another TCP state, or null (the table does not hold it).
/// </summary>
internal sealed record ServerSocketObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    TcpState? State,
    int Retransmits) : Observation(AtMicroseconds);
