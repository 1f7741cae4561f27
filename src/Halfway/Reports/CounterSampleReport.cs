using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record CounterSampleReport(double AtMs, SortedDictionary<string, long> Counters);
