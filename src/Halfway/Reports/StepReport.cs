using System.Text.Json.Serialization;

namespace Halfway.Reports;

/// <summary>One client step's call and its result; errno, detail and tcp_info are left out of report.json when there are none.</summary>
internal sealed record StepReport(
    string Step,
    string Result,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Errno,
    double AtMs,
    double DurationMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TcpInfoReport? TcpInfo);
