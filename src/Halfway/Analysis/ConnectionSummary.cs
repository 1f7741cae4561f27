using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>A finished connection's fate without its evidence: all a sink needs to count it (and to sample its handshake's timing).</summary>
internal readonly record struct ConnectionSummary(IpEndpoint Client, IpEndpoint Server, Fate Fate, bool HalfEstablished, string? Kind, HandshakeTimes Handshake = default);
