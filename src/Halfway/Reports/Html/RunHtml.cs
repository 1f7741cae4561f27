using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Halfway.Reports.Html;

/// <summary>
/// <c>report.html</c>: one self-contained page for a run (no network: the chart library, the script and the data are
/// inlined, and a Content-Security-Policy forbids any request). The text parts (settings, counters once, explanations,
/// the seed's answers, remedies) are written here; the pictures are drawn in the browser by report.js from each
/// scenario's data, which is the report's own data and nothing else.
/// </summary>
internal static partial class RunHtml
{
    public const string FileName = "report.html";

    private static readonly string[] Columns = [TimelineReport.Client, TimelineReport.WireToServer, TimelineReport.WireToClient, TimelineReport.Server];

    public static string Render(RunReport report)
    {
        var html = new StringBuilder(64 * 1024 + report.Scenarios.Sum(s => s.Connections.Count) * 256);
        html.Append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>halfway run ").Append(E(Path.GetFileName(report.RunFolder))).Append("</title>\n<style>")
            .Append(HtmlAssets.Read("uPlot.min.css")).Append('\n').Append(HtmlAssets.Read("report.css")).Append("</style></head>\n<body>\n");
        html.Append("<h1>halfway run — ").Append(E(Path.GetFileName(report.RunFolder))).Append("</h1>\n<p class=\"muted\">Started ")
            .Append(E(report.StartedAt)).Append(" on Linux ").Append(E(report.Kernel)).Append(". Files: <a href=\"report.json\">report.json</a>, <a href=\"")
            .Append(ConnectionsCsv.FileName).Append("\">").Append(ConnectionsCsv.FileName).Append("</a>");
        foreach (var s in report.Scenarios.Where(s => s.Capture is not null))
            html.Append(", <a href=\"").Append(E(s.Capture!)).Append("\">").Append(E(s.Capture!)).Append("</a>");
        html.Append(".</p>\n");
        if (report.Interrupted)
            html.Append("<p class=\"warning\">Interrupted (").Append(E(report.InterruptedBy ?? "signal")).Append("): this report holds what was observed until then.</p>\n");
        if (report.Scenarios.Count > 1)
        {
            html.Append("<nav><p>Scenarios: ");
            html.AppendJoin(" · ", report.Scenarios.Select((s, i) => $"<a href=\"#s{i}\">{E(s.Name)}</a>"));
            html.Append("</p></nav>\n");
        }
        for (int i = 0; i < report.Scenarios.Count; i++)
            Scenario(html, report.Scenarios[i], i);
        html.Append("<script>").Append(HtmlAssets.ForScript(HtmlAssets.Read("uPlot.iife.min.js"))).Append("</script>\n<script>")
            .Append(HtmlAssets.ForScript(HtmlAssets.Read("report.js"))).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    private static void Scenario(StringBuilder html, ScenarioReport s, int index)
    {
        int halfEstablished = s.Connections.Count(c => c.HalfEstablished);
        html.Append($"<section class=\"scenario\" id=\"s{index}\" data-name=\"{E(s.Name)}\" data-connections=\"{s.Connections.Count}\" data-half-established=\"{halfEstablished}\">\n");
        html.Append($"<h2>{E(s.Name)} <span class=\"muted\">({E(s.Variant)}) — {s.Connections.Count} connections to {E(s.Server)}, {E(TextReport.Seconds(s.DurationMs))}</span></h2>\n");
        if (s.Description.Length > 0)
            html.Append($"<p>{E(s.Description)}</p>\n");
        if (s.Interrupted)
            html.Append($"<p class=\"warning\">Interrupted at {E(TextReport.Plus(s.InterruptedAtMs ?? s.DurationMs))}: steps still running were cancelled.</p>\n");
        foreach (var warning in s.Warnings)
            html.Append($"<p class=\"warning\">warning: {E(warning)}</p>\n");
        foreach (var note in s.Notes)
            html.Append($"<p class=\"muted\">note: {E(note)}</p>\n");

        html.Append("<div class=\"chips\">");
        foreach (var (fate, count) in s.Fates.OrderByDescending(f => f.Value))
            html.Append($"<span class=\"chip fate\" data-fate=\"{E(fate)}\" data-count=\"{count}\" style=\"background:{FateColor(fate)}33;border-color:{FateColor(fate)}\">{E(fate)} {count}</span>");
        html.Append($"<span class=\"chip\">half-established at some moment: <b class=\"half-count\">{halfEstablished}</b></span></div>\n");

        html.Append("<table>");
        Row(html, "server", $"backlog {s.Backlog}, {s.AcceptPolicy}");
        if (s.Link is { } link)
            Row(html, "link", $"{link.DelayClientToServerMs:0.###} ms / {link.DelayServerToClientMs:0.###} ms one way, {link.PacketsSeen} packets, {link.PacketsDropped} dropped by the link"
                + (link.PacketsInFlight > 0 ? $", {link.PacketsInFlight} still in flight when the lab stopped" : "")
                + (link.DropRules.Count > 0 ? $"; drop rules: {string.Join(", ", link.DropRules)}" : ""));
        Row(html, "client", $"{s.Connections.Count(c => c.ConnectedAtMs is not null)} of {s.Connections.Count} connect() calls returned success");
        if (TextReport.ConnectLatency(s) is { } latency)
            Row(html, "connect time", latency);
        var server = s.ServerSide;
        Row(html, "server application", $"accepted {server.Accepted} of {s.Connections.Count}; {server.MessagesReceived} messages received, {server.RepliesSent} replies sent");
        if (server.SocketTableObserved && server.AcceptQueueLimit is { } limit)
            Row(html, "server socket table", $"accept queue at most {server.MaxAcceptQueue} (limit {limit}: it holds limit + 1); at most {server.MaxSynRecv} request sockets in SYN-RECV");
        foreach (var missed in server.Sampling?.NotSeen ?? [])
            Row(html, "not seen by the samples", missed);
        Row(html, "settings changed", s.SettingsChanged.Count == 0 ? "none: this kernel's defaults" : string.Join("; ", s.SettingsChanged.Select(c => $"{c.Host}: {c.Name} = {c.Value} (default {c.Default})")));
        html.Append("</table>\n");

        html.Append("<h3>The server over time</h3><div class=\"chart chart-queue\"></div><div class=\"chart chart-counts\"></div>\n");
        html.Append("<h3>Every connection</h3><p class=\"muted\">One line per connection, on the same time axis: grey while connect() waits, dashed orange while half-established (the client connected, the server's kernel not), then the fate's colour; a blue tick when the application accepted it, a red dot at its first RST. Click a line for its sequence.</p>\n");
        html.Append("<div class=\"controls\"><label><input type=\"checkbox\" class=\"group-by-fate\" checked> group by fate</label></div>\n");
        html.Append("<div class=\"lifelines-scroll\"><div class=\"lifelines\"></div></div><div class=\"picked\"></div>\n");
        html.Append("<h3>One connection of each fate</h3><div class=\"representatives\"></div>\n");

        if (s.Remedies.Count > 0)
        {
            html.Append("<h3>What to change, from this run's evidence</h3>\n");
            foreach (var r in s.Remedies)
                html.Append($"<p class=\"remedy\"><b>{E(r.Side)}</b> ({E(string.Join(", ", r.Fates))}): {E(r.Change)} <span class=\"cost\">Cost: {E(r.Cost)}</span></p>\n");
        }
        if (s.Answers.Count > 0)
        {
            html.Append("<h3>The seed's questions, answered from this run</h3><ul>\n");
            foreach (var answer in s.Answers)
                html.Append($"<li>{E(answer)}</li>\n");
            html.Append("</ul>\n");
        }
        html.Append("<h3>Each fate explained</h3>\n");
        foreach (var explanation in s.Explanations)
        {
            string first = explanation.Split('\n')[0];
            html.Append($"<details><summary>{E(first)}</summary><pre>{E(explanation)}</pre></details>\n");
        }
        html.Append("<h3>Kernel counters on the server host</h3><table>");
        foreach (var (name, delta) in s.Counters)
            html.Append($"<tr><td class=\"mono\">{E(name)}</td><td class=\"n\">+{delta}</td></tr>");
        html.Append("</table>\n");

        html.Append("<script type=\"application/json\" class=\"scenario-data\">").Append(Data(s, index)).Append("</script>\n</section>\n");
    }

    /// <summary>
    /// The scenario's data for report.js: connections as tuples (client, fate index, half-established, kind index, connect
    /// start, connect returned, server completed, accepted, end, first RST, RST from), timelines as flat (ms, column,
    /// string index) triples over one string table, and a representative per fate (the one its explanation shows).
    /// </summary>
    private static string Data(ScenarioReport s, int index)
    {
        var fates = s.Connections.Select(c => c.Fate).Distinct().OrderBy(f => f, StringComparer.Ordinal).ToList();
        var kinds = new List<string> { "" };
        kinds.AddRange(s.Connections.Select(c => c.Kind).OfType<string>().Distinct().OrderBy(k => k, StringComparer.Ordinal));
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        int StringIndex(string text)
        {
            if (!strings.TryGetValue(text, out int i))
                strings[text] = i = strings.Count;
            return i;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            json.WriteStartObject();
            json.WriteNumber("id", index);
            json.WriteString("name", s.Name);
            json.WriteString("server_address", s.Server);
            json.WriteNumber("durationMs", s.DurationMs);
            Strings(json, "fates", fates);
            Strings(json, "kinds", kinds);
            if (s.ServerOverTime is { } over)
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
            Numbers(json, "t", s.CountersOverTime.Select(c => c.AtMs));
            json.WriteStartObject("series");
            foreach (var name in s.CountersOverTime.SelectMany(c => c.Counters.Keys).Distinct().Order(StringComparer.Ordinal))
                Numbers(json, Observe.CounterCatalogue.ShortName(name), s.CountersOverTime.Select(c => (double)c.Counters.GetValueOrDefault(name)));
            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteStartArray("c");
            foreach (var c in s.Connections)
            {
                var connect = c.Steps.Count > 0 ? c.Steps[0] : null;
                json.WriteStartArray();
                json.WriteStringValue(c.Client ?? "?");
                json.WriteNumberValue(fates.IndexOf(c.Fate));
                json.WriteNumberValue(c.HalfEstablished ? 1 : 0);
                json.WriteNumberValue(c.Kind is null ? 0 : kinds.IndexOf(c.Kind));
                Number(json, connect is null ? null : Math.Round(connect.AtMs - connect.DurationMs, 1));
                Number(json, c.ConnectedAtMs);
                Number(json, c.ServerCompletedAtMs);
                Number(json, c.AcceptedAtMs);
                Number(json, c.Steps.Count > 0 ? c.Steps.Max(step => step.AtMs) : null);
                Number(json, c.FirstRstAtMs);
                if (c.FirstRstFrom is null)
                    json.WriteNullValue();
                else
                    json.WriteNumberValue(c.FirstRstFrom == "client" ? 1 : 0);
                json.WriteEndArray();
            }
            json.WriteEndArray();

            json.WriteStartArray("tl");
            foreach (var c in s.Connections)
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
            foreach (var fate in s.Fates.OrderByDescending(f => f.Value).Select(f => f.Key))
            {
                int rep = Representative(s, fate);
                if (rep < 0)
                    continue;
                json.WriteStartArray();
                json.WriteStringValue(fate);
                json.WriteNumberValue(rep);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The connection the fate's explanation uses as its example, so the picture and the text show the same one.</summary>
    private static int Representative(ScenarioReport s, string fate)
    {
        var explanation = s.Explanations.FirstOrDefault(e => e.StartsWith(fate + " — ", StringComparison.Ordinal));
        if (explanation is not null && ExampleClient().Match(explanation) is { Success: true } match)
        {
            int i = s.Connections.FindIndex(c => c.Client == match.Groups[1].Value && c.Fate == fate);
            if (i >= 0)
                return i;
        }
        return s.Connections.FindIndex(c => c.Fate == fate);
    }

    [GeneratedRegex(@"For example (\S+) ->")]
    private static partial Regex ExampleClient();

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

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    /// <summary>The colours report.js uses, for the chips written here.</summary>
    private static string FateColor(string fate) => fate switch
    {
        "accepted" => "#4caf50",
        "accepted-late" => "#8bc34a",
        "queued" => "#03a9f4",
        "reset-on-data" => "#e53935",
        "reset-at-handshake" => "#ad1457",
        "stranded" => "#ff9800",
        "still-half-established" => "#ffc107",
        "client-aborted" => "#795548",
        "handshake-incomplete" => "#9e9e9e",
        "syn-dropped" => "#607d8b",
        "refused" => "#5e35b1",
        _ => "#bdbdbd",
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
