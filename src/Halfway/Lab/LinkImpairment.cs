namespace Halfway.Lab;

/// <summary>The impairments of one direction of the link.</summary>
internal sealed record LinkImpairment
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
