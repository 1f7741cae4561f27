using System.Text.Json;
using System.Text.Json.Serialization;

namespace Halfway.Reports;

/// <summary>One event of a connection's timeline; in report.json <c>[at_ms, where, text]</c>, where is c, w&gt;, w&lt; or s.</summary>
[JsonConverter(typeof(TimelineReportConverter))]
internal sealed record TimelineReport(double AtMs, string Where, string Text)
{
    public const string Client = "c", WireToServer = "w>", WireToClient = "w<", Server = "s";
}

internal sealed class TimelineReportConverter : JsonConverter<TimelineReport>
{
    public override TimelineReport Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var a = document.RootElement;
        return new TimelineReport(a[0].GetDouble(), a[1].GetString()!, a[2].GetString()!);
    }

    public override void Write(Utf8JsonWriter writer, TimelineReport value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.AtMs);
        writer.WriteStringValue(value.Where);
        writer.WriteStringValue(value.Text);
        writer.WriteEndArray();
    }
}
