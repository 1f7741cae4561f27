using System.Text;
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

    public static string Render(RunReport report)
    {
        var html = new StringBuilder(64 * 1024 + report.Scenarios.Sum(s => s.Connections.Count) * 256);
        HtmlPage.Head(html, $"halfway run {Path.GetFileName(report.RunFolder)}");
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
        HtmlPage.Scripts(html);
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

        HtmlPage.FateChips(html, s.Fates.OrderByDescending(f => f.Value).Select(f => (f.Key, (long)f.Value)), halfEstablished);

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

        HtmlPage.Pictures(html, Data(s, index), "One line per connection, on the same time axis: grey while connect() waits, dashed orange while half-established (the client connected, the server's kernel not), then the fate's colour; a blue tick when the application accepted it, a red dot at its first RST. Click a line for its sequence.", serverOverTime: true);

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

        html.Append("</section>\n");
    }

    private static HtmlSectionData Data(ScenarioReport s, int index) => new(
        index, s.Name, s.Server, s.DurationMs, s.ServerOverTime, s.CountersOverTime,
        s.Connections.Select(c =>
        {
            var connect = c.Steps.Count > 0 ? c.Steps[0] : null;
            return new HtmlConnection(c.Client ?? "?", c.Fate, c.HalfEstablished, c.Kind,
                connect is null ? null : Math.Round(connect.AtMs - connect.DurationMs, 1), c.ConnectedAtMs, c.ServerCompletedAtMs, c.AcceptedAtMs,
                c.Steps.Count > 0 ? c.Steps.Max(step => step.AtMs) : null, c.FirstRstAtMs, c.FirstRstFrom, c.Timeline);
        }).ToList(),
        s.Fates.OrderByDescending(f => f.Value).Select(f => (f.Key, Representative(s, f.Key))).Where(r => r.Item2 >= 0).ToList());

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

    private static void Row(StringBuilder html, string name, string value) => HtmlPage.Row(html, name, value);

    private static string E(string text) => HtmlPage.E(text);
}
