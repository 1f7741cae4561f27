using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>The server application's accept() returned this connection (lab only).</summary>
internal sealed record ServerAcceptObservation(long AtMicroseconds, IpEndpoint Client, IpEndpoint Server) : Observation(AtMicroseconds);
