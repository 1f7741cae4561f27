using Halfway.Wire;

namespace Halfway.Lab;

/// <summary>
/// Drops the packets that match every criterion given; a criterion left null matches anything.
/// Non-TCP packets match only a rule with no TCP criteria (a black hole).
/// </summary>
internal sealed record DropRule
{
    public required string Name { get; init; }

    public LinkDirection? Direction { get; init; }

    /// <summary>Flags that must be exactly these (e.g. only ACK: a pure ACK).</summary>
    public TcpFlags? Flags { get; init; }

    public int? SourcePort { get; init; }

    public int? DestinationPort { get; init; }

    public int? PayloadMin { get; init; }

    public int? PayloadMax { get; init; }

    /// <summary>Active from this time since the lab started (inclusive).</summary>
    public TimeSpan? From { get; init; }

    /// <summary>Active until this time since the lab started (exclusive).</summary>
    public TimeSpan? Until { get; init; }

    /// <summary>Drops at most this many packets, then matches nothing.</summary>
    public int? Count { get; init; }

    /// <summary>Matches only the final ACK of a handshake: the client's first pure ACK after its SYN.</summary>
    public bool HandshakeAck { get; init; }

    /// <summary>Applies to the first N connections (4-tuples) it matches, then to no new one.</summary>
    public int? FirstConnections { get; init; }

    internal bool HasTcpCriteria => Flags is not null || SourcePort is not null || DestinationPort is not null
        || PayloadMin is not null || PayloadMax is not null || HandshakeAck || FirstConnections is not null;
}
