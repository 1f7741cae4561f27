using Halfway.Wire;

namespace Halfway.Lab;

/// <summary>Which way a packet crosses the link.</summary>
public enum LinkDirection
{
    ClientToServer,
    ServerToClient,
}

/// <summary>What the link did with a packet.</summary>
public enum LinkAction
{
    Passed,

    /// <summary>Dropped on purpose (a drop rule, random loss) or because writing it to the receiver's TUN device failed.</summary>
    Dropped,

    /// <summary>
    /// Still waiting out its delay when the lab stopped: never delivered, but no drop either. A delay of hundreds of
    /// milliseconds leaves many such packets, and counting them as drops would invent losses nobody asked for.
    /// </summary>
    InFlight,
}

/// <summary>The impairments of one direction of the link.</summary>
public sealed record LinkImpairment
{
    /// <summary>One-way delay. A few milliseconds make the handshake asynchronous, so the accept-queue race can happen.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Uniform jitter in [-Jitter, +Jitter] added to the delay.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>With jitter, whether a packet may overtake an earlier one. Off: order is kept.</summary>
    public bool Reorder { get; init; }

    /// <summary>Probability in [0, 1] that a packet is lost, drawn from a generator seeded with <see cref="Seed"/>.</summary>
    public double Loss { get; init; }

    public int Seed { get; init; } = 1;
}

/// <summary>
/// Drops the packets that match every criterion given; a criterion left null matches anything.
/// Non-TCP packets match only a rule with no TCP criteria (a black hole).
/// </summary>
public sealed record DropRule
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

/// <summary>Both directions of a link and its drop rules.</summary>
public sealed record LinkOptions
{
    public LinkImpairment ClientToServer { get; init; } = new();

    public LinkImpairment ServerToClient { get; init; } = new();

    public IReadOnlyList<DropRule> DropRules { get; init; } = [];

    /// <summary>Bytes of each packet kept for the capture; the rest is cut (the original length is kept).</summary>
    public int SnapLength { get; init; } = 256;
}

/// <summary>
/// One packet the link saw: when, which way, what it did, and its first bytes. <see cref="DropReason"/> is set only
/// for <see cref="LinkAction.Dropped"/>; <see cref="DeliveredAtMicroseconds"/> is -1 unless the packet was delivered.
/// </summary>
public readonly record struct LinkPacket(
    long SeenAtMicroseconds,
    long DeliveredAtMicroseconds,
    LinkDirection Direction,
    LinkAction Action,
    string? DropReason,
    int Length,
    byte[] Bytes);
