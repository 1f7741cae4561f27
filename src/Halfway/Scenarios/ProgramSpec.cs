namespace Halfway.Scenarios;

/// <summary>
/// The user's own program, run inside a lab host: an argv list executed as it is (no shell unless the list names
/// one), in <see cref="WorkDir"/> with <see cref="Environment"/> added to halfway's own.
/// </summary>
internal sealed record ProgramSpec
{
    public required IReadOnlyList<string> Command { get; init; }
    public string? WorkDir { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>How long a server program may take to listen on its port.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where the command is written, for errors found later (a missing executable, a program that never listens).</summary>
    public int Line { get; init; }
    public required string Field { get; init; }
}
