namespace Halfway.Scenarios;

/// <summary>The listener and how the application behind it accepts and answers.</summary>
internal sealed record ServerSpec
{
    public int Port { get; init; } = 8080;
    public int Backlog { get; init; } = 5;
    public AcceptPolicy Accept { get; init; } = new();

    /// <summary>Bytes sent back for each message received; null: never reply.</summary>
    public string? Reply { get; init; } = "Pong";

    /// <summary>Bytes sent right after accept; null: no greeting.</summary>
    public string? Greeting { get; init; }

    /// <summary>TCP_DEFER_ACCEPT seconds on the listener; null: off.</summary>
    public int? DeferAcceptSeconds { get; init; }

    /// <summary>The user's program serves the port instead of the built-in server; null: the built-in server.</summary>
    public ProgramSpec? Program { get; init; }
}
