using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>A finished connection's fate without its evidence: all a sink needs to count it (and to sample its handshake's timing).</summary>
/// <param name="DataResendsBeforeServerAck">Client data or FINs re-sent before the server showed a complete connection: a sink
/// that weighs connections against each other (a burst's late completions) asks for the reports of those it may revise.</param>
internal readonly record struct ConnectionSummary(IpEndpoint Client, IpEndpoint Server, Fate Fate, bool HalfEstablished, string? Kind, HandshakeTimes Handshake = default,
    int DataResendsBeforeServerAck = 0);
