using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record ScenarioReport
{
    public required string Name { get; init; }
    public required string Variant { get; init; }
    public required string Description { get; init; }
    public required string Source { get; init; }
    public required string Topology { get; init; }
    public required string Server { get; init; }
    public required double DurationMs { get; init; }
    public required bool ReachedDurationBound { get; init; }
    public required string AcceptPolicy { get; init; }
    public required int Backlog { get; init; }

    /// <summary>Kernel settings in force, per host role (client, server; host for a single topology).</summary>
    public required Dictionary<string, SortedDictionary<string, string>> Settings { get; init; }
    public required List<ChangedSettingReport> SettingsChanged { get; init; }

    /// <summary>Counter deltas of the server's host (where the listener lives), by nstat name.</summary>
    public required SortedDictionary<string, long> Counters { get; init; }
    public required Dictionary<string, SortedDictionary<string, long>> CountersByHost { get; init; }

    /// <summary>The server host's counters about once a second: change since the start, for the counters that moved.</summary>
    [JsonConverter(typeof(CountersOverTimeConverter))]
    public required List<CounterSampleReport> CountersOverTime { get; init; }
    public required LinkReport? Link { get; init; }
    /// <summary>The server socket table's samples over the run (empty when it was not observed).</summary>
    public ServerOverTimeReport? ServerOverTime { get; init; }
    public required ServerReport ServerSide { get; init; }

    /// <summary>The user's programs that ran in the lab (empty when the built-in server and client ran).</summary>
    public List<ProgramReport> Programs { get; init; } = [];

    /// <summary>How each fact about the user's programs was known, and which were not (a program does not report its accepts).</summary>
    public List<string> Unknowns { get; init; } = [];
    public required List<StepSummary> StepSummary { get; init; }
    public required SortedDictionary<string, int> Fates { get; init; }
    public required List<string> Explanations { get; init; }
    public required List<string> Answers { get; init; }
    /// <summary>What would have helped this scenario's connections, read from its own evidence (see <see cref="RunRemedies"/>).</summary>
    public List<RemedyReport> Remedies { get; init; } = [];
    public required List<string> Notes { get; init; }
    public required List<string> Warnings { get; init; }
    public required string? Capture { get; init; }
    public required List<RunConnectionReport> Connections { get; init; }
    /// <summary>The server kernel's witness (null in reports written before it existed).</summary>
    public KernelWitnessReport? KernelWitness { get; init; }

    /// <summary>True when a signal stopped this scenario before its last step or bound; interrupted_at_ms says when.</summary>
    public bool Interrupted { get; init; }
    public double? InterruptedAtMs { get; init; }
}
