using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

/// <summary>
/// The server's socket table is sampled, not watched: <paramref name="NotSeen"/> says what the counters prove happened
/// between two samples (a burst that filled and drained a queue), so that "at most N" is not read as "never more".
/// </summary>
internal sealed record SocketTableSamplingReport(int Samples, double IdleIntervalMs, double BusyIntervalMs, double CostMs, List<string> NotSeen);
