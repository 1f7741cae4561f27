using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// A socket call of the client and what it returned (lab only); Errno the kernel's errno name or null.
/// </summary>
internal sealed record ClientCallObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    ClientStep Step,
    CallResult Result,
    string? Errno,
    string? Detail = null) : Observation(AtMicroseconds);
