using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Halfway.Reports.Html;

/// <summary>
/// A section's data for report.js, as JSON placed in the page: connections as tuples (client, fate index,
/// half-established, kind index, start, connect returned, server completed, accepted, end, first RST, RST from) and
/// timelines as flat (ms, column, string index) triples over one string table, so thousands of connections stay small.
/// </summary>
internal static class HtmlData
{
    private static readonly string[] Columns = [TimelineReport.Client, TimelineReport.WireToServer, TimelineReport.WireToClient, TimelineReport.Server];

    public static string Json(HtmlSectionData d)
    {
        var fates = d.Connections.Select(c => c.Fate).Distinct().OrderBy(f => f, StringComparer.Ordinal).ToList();
        var kinds = new List<string> { "" };
        kinds.AddRange(d.Connections.Select(c => c.Kind).OfType<string>().Distinct().OrderBy(k => k, StringComparer.Ordinal));
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        int StringIndex(string text)
        {
            if (!strings.TryGetValue(text, out int i))
                strings[text] = i = strings.Count;
            return i;
        }

        using var buffer = new MemoryStream();
        // The default encoder escapes <, > and &: the JSON sits inside a script element.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            json.WriteStartObject();
            json.WriteNumber("id", d.Id);
            json.WriteString("name", d.Name);
            json.WriteString("server_address", d.ServerAddress);
            json.WriteNumber("durationMs", d.DurationMs);
            json.WriteBoolean("fromCapture", d.FromCapture);
            Strings(json, "fates", fates);
            Strings(json, "kinds", kinds);
            if (d.Server is { } over)
            {
                json.WriteStartObject("server");
                Numbers(json, "t", over.AtMs);
                Numbers(json, "queue", over.AcceptQueue.Select(q => (double)q));
                Numbers(json, "synRecv", over.SynRecv.Select(q => (double)q));
                Numbers(json, "drops", over.Drops.Select(q => (double)q));
                json.WriteNumber("limit", over.AcceptQueueLimit ?? 0);
                json.WriteEndObject();
            }
            else
                json.WriteNull("server");
            json.WriteStartObject("counters");
            Numbers(json, "t", d.Counters.Select(c => c.AtMs));
            json.WriteStartObject("series");
            foreach (var name in d.Counters.SelectMany(c => c.Counters.Keys).Distinct().Order(StringComparer.Ordinal))
                Numbers(json, Observe.CounterCatalogue.ShortName(name), d.Counters.Select(c => (double)c.Counters.GetValueOrDefault(name)));
            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteStartArray("c");
            foreach (var c in d.Connections)
            {
                json.WriteStartArray();
                json.WriteStringValue(c.Client);
                json.WriteNumberValue(fates.IndexOf(c.Fate));
                json.WriteNumberValue(c.HalfEstablished ? 1 : 0);
                json.WriteNumberValue(c.Kind is null ? 0 : kinds.IndexOf(c.Kind));
                Number(json, c.StartMs);
                Number(json, c.ConnectedMs);
                Number(json, c.ServerCompletedMs);
                Number(json, c.AcceptedMs);
                Number(json, c.EndMs);
                Number(json, c.FirstRstMs);
                if (c.FirstRstFrom is null)
                    json.WriteNullValue();
                else
                    json.WriteNumberValue(c.FirstRstFrom == "client" ? 1 : 0);
                json.WriteEndArray();
            }
            json.WriteEndArray();

            json.WriteStartArray("tl");
            foreach (var c in d.Connections)
            {
                json.WriteStartArray();
                foreach (var t in c.Timeline)
                {
                    json.WriteNumberValue(Math.Round(t.AtMs, 1));
                    json.WriteNumberValue(Math.Max(0, Array.IndexOf(Columns, t.Where)));
                    json.WriteNumberValue(StringIndex(t.Text));
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
            Strings(json, "strings", strings.OrderBy(kv => kv.Value).Select(kv => kv.Key));

            json.WriteStartArray("reps");
            foreach (var (fate, index) in d.Representatives)
            {
                json.WriteStartArray();
                json.WriteStringValue(fate);
                json.WriteNumberValue(index);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
            json.WriteStringValue(v);
        json.WriteEndArray();
    }

    private static void Numbers(Utf8JsonWriter json, string name, IEnumerable<double> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
            json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter json, double? value)
    {
        if (value is { } v)
            json.WriteNumberValue(v);
        else
            json.WriteNullValue();
    }
}
