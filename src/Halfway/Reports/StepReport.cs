using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record StepReport(string Step, string Result, string? Errno, double AtMs, double DurationMs, string? Detail, TcpInfoReport? TcpInfo);
