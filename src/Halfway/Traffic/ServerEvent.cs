using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Traffic;

/// <summary>What the server application did with one connection: accepted, received, replied, closed, reset.</summary>
internal sealed record ServerEvent(ServerEventKind Kind, IpEndpoint Client, IpEndpoint Local, double AtMs, int Bytes, string? Detail = null);
