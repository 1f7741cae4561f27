using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record TimelineReport(double AtMs, string Where, string Text);
