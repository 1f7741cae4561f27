using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record StepSummary(int Index, string Step, string Result, string? Errno, int Count, double FirstMs, double LastMs);
