using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

/// <summary>
/// The run's report, as written to report.json and printed by --json. The schema is versioned
/// (<see cref="SchemaVersion"/>) and documented in docs/report-schema.md; fields are only added within a version.
/// </summary>
public sealed record RunReport
{
    public const string SchemaVersion = "halfway.run/1";

    public string Schema { get; init; } = SchemaVersion;
    public required string StartedAt { get; init; }
    public required string Kernel { get; init; }
    public required string RunFolder { get; init; }
    public required List<ScenarioReport> Scenarios { get; init; }

    /// <summary>True when SIGINT or SIGTERM stopped the run early: the report holds what was observed until then.</summary>
    public bool Interrupted { get; init; }

    /// <summary>"SIGINT" or "SIGTERM" when interrupted, else null.</summary>
    public string? InterruptedBy { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // A report is read by people and tools, not embedded in HTML: keep "+" and "—" as they are.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Generated at build time: the native (AOT) build has no reflection-based serializer.
        TypeInfoResolver = RunReportJsonContext.Default,
    };

    public string ToJson() => JsonSerializer.Serialize(this, (JsonTypeInfo<RunReport>)JsonOptions.GetTypeInfo(typeof(RunReport)));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RunReport))]
internal sealed partial class RunReportJsonContext : JsonSerializerContext;

public sealed record ScenarioReport
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
    public required List<CounterSampleReport> CountersOverTime { get; init; }
    public required LinkReport? Link { get; init; }
    public required ServerReport ServerSide { get; init; }
    public required List<StepSummary> StepSummary { get; init; }
    public required SortedDictionary<string, int> Fates { get; init; }
    public required List<string> Explanations { get; init; }
    public required List<string> Answers { get; init; }
    public required List<string> Notes { get; init; }
    public required List<string> Warnings { get; init; }
    public required string? Capture { get; init; }
    public required List<RunConnectionReport> Connections { get; init; }

    /// <summary>True when a signal stopped this scenario before its last step or bound; interrupted_at_ms says when.</summary>
    public bool Interrupted { get; init; }
    public double? InterruptedAtMs { get; init; }
}

public sealed record CounterSampleReport(double AtMs, SortedDictionary<string, long> Counters);

public sealed record ChangedSettingReport(string Host, string Name, string Default, string Value);

public sealed record LinkReport(double DelayClientToServerMs, double DelayServerToClientMs, double Loss, long PacketsSeen, long PacketsDropped, long PacketsInFlight, List<string> DropRules);

public sealed record ServerReport(int Accepted, double? FirstAcceptMs, double? LastAcceptMs, int MessagesReceived, int RepliesSent, int Resets,
    uint? MaxAcceptQueue, uint? AcceptQueueLimit, int? MaxSynRecv, bool SocketTableObserved)
{
    /// <summary>How the socket table was sampled: how many samples, how often, and what reading it cost.</summary>
    public SocketTableSamplingReport? Sampling { get; init; }
}

/// <summary>
/// The server's socket table is sampled, not watched: <paramref name="NotSeen"/> says what the counters prove happened
/// between two samples (a burst that filled and drained a queue), so that "at most N" is not read as "never more".
/// </summary>
public sealed record SocketTableSamplingReport(int Samples, double IdleIntervalMs, double BusyIntervalMs, double CostMs, List<string> NotSeen);

public sealed record StepSummary(int Index, string Step, string Result, string? Errno, int Count, double FirstMs, double LastMs);

public sealed record RunConnectionReport
{
    public required int Id { get; init; }
    public required string? Client { get; init; }
    public required string Server { get; init; }
    public required double? ConnectedAtMs { get; init; }
    public required double? AcceptedAtMs { get; init; }
    public required List<StepReport> Steps { get; init; }
    public required string Fate { get; init; }
    public required bool HalfEstablished { get; init; }
    public required string? Kind { get; init; }
    public required List<EvidenceReport> Evidence { get; init; }
    public required List<TimelineReport> Timeline { get; init; }
    /// <summary>The client's socket was still open when the run ended: the fate is the state at that moment.</summary>
    public bool OpenAtEnd { get; init; }
}

public sealed record StepReport(string Step, string Result, string? Errno, double AtMs, double DurationMs, string? Detail, TcpInfoReport? TcpInfo);

public sealed record TcpInfoReport(string State, int Retransmits, int Probes, int Backoff, double RtoMs, int Unacked, double RttMs, int TotalRetransmissions);

public sealed record EvidenceReport(double AtMs, string Source, string Text);

public sealed record TimelineReport(double AtMs, string Where, string Text);
