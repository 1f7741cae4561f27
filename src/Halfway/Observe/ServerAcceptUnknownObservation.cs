using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// Whether the server application accepted this connection cannot be known (a program server, lab only): its complete
/// socket left the server's table between two samples without showing an inode, and the server sent it no data, FIN or
/// RST. At the sample that first missed it.
/// </summary>
internal sealed record ServerAcceptUnknownObservation(long AtMicroseconds, IpEndpoint Client, IpEndpoint Server) : Observation(AtMicroseconds);
