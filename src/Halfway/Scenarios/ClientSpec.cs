namespace Halfway.Scenarios;

/// <summary>The clients: how many connections, how fast they start, their socket options and steps.</summary>
internal sealed record ClientSpec
{
    public int Count { get; init; } = 1;

    /// <summary>Connections started per second; null: all at once.</summary>
    public double? Rate { get; init; }

    /// <summary>Seeds per-connection random draws (wait ranges).</summary>
    public int Seed { get; init; } = 1;

    public SocketOptions Options { get; init; } = new();
    public IReadOnlyList<Step> Steps { get; init; } = [];

    /// <summary>The user's program, started <see cref="Count"/> times, connects instead of the built-in client; null: the built-in client.</summary>
    public ProgramSpec? Program { get; init; }
}
