using System.Text.Json;
using System.Text.Json.Serialization;

namespace Halfway.Reports;

/// <summary>
/// Writes the counter samples as columns, <c>{"at_ms": [...], "counters": {"NAME": [...]}}</c> (entry i of each list is
/// sample i; a counter absent from a sample is 0), instead of repeating every counter's name in every sample.
/// </summary>
internal sealed class CountersOverTimeConverter : JsonConverter<List<CounterSampleReport>>
{
    public override List<CounterSampleReport> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var at = document.RootElement.GetProperty("at_ms").EnumerateArray().Select(e => e.GetDouble()).ToList();
        var samples = at.Select(t => new CounterSampleReport(t, new SortedDictionary<string, long>(StringComparer.Ordinal))).ToList();
        foreach (var counter in document.RootElement.GetProperty("counters").EnumerateObject())
        {
            int i = 0;
            foreach (var value in counter.Value.EnumerateArray())
                samples[i++].Counters[counter.Name] = value.GetInt64();
        }
        return samples;
    }

    public override void Write(Utf8JsonWriter writer, List<CounterSampleReport> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("at_ms");
        foreach (var sample in value)
            writer.WriteNumberValue(sample.AtMs);
        writer.WriteEndArray();
        writer.WriteStartObject("counters");
        foreach (var name in value.SelectMany(s => s.Counters.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            writer.WriteStartArray(name);
            foreach (var sample in value)
                writer.WriteNumberValue(sample.Counters.GetValueOrDefault(name));
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
