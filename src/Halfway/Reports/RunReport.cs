using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

/// <summary>
/// The run's report, as written to report.json and printed by --json. The schema is versioned
/// (<see cref="SchemaVersion"/>) and documented in docs/report-schema.md; fields are only added within a version.
/// </summary>
internal sealed record RunReport
{
    public const string SchemaVersion = "halfway.run/2";

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
        // One line: a run of thousands of connections is read by jq and programs; `jq .` indents it for people.
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // A report is read by people and tools, not embedded in HTML: keep "+" and "—" as they are.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Generated at build time: the native (AOT) build has no reflection-based serializer.
        TypeInfoResolver = RunReportJsonContext.Default,
    };

    public string ToJson() => JsonSerializer.Serialize(this, (JsonTypeInfo<RunReport>)JsonOptions.GetTypeInfo(typeof(RunReport)));
}
