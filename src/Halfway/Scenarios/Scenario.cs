using Halfway.Lab;

namespace Halfway.Scenarios;

/// <summary>One experiment: a lab, a server, clients and their steps, and a bound on its duration.</summary>
internal sealed record Scenario
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";

    /// <summary>"quick" (timers lowered in the lab, waits scaled), "faithful" (kernel defaults, real waits) or "custom".</summary>
    public string Variant { get; init; } = "custom";

    /// <summary>Where the scenario came from: a file path or "built-in:NAME".</summary>
    public string Source { get; init; } = "";

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public Topology Topology { get; init; } = Topology.Pair;
    public LinkOptions Link { get; init; } = new();

    /// <summary>net.* settings per host role ("client", "server"); a single topology applies both to its one host.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KernelSetting>> Kernel { get; init; } =
        new Dictionary<string, IReadOnlyList<KernelSetting>>();

    public ServerSpec Server { get; init; } = new();
    public ClientSpec Clients { get; init; } = new();

    /// <summary>Lines the report prints about what a quick variant cannot shorten or shows differently.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The report answers the seed's three questions from this run (`answers: seed`).</summary>
    public bool AnswersSeed { get; init; }
}
