using System.Globalization;
using System.Text;
using Halfway.Analysis;

namespace Halfway.Reports.Html;

/// <summary>
/// `halfway explain --html FILE`: the capture's report as one self-contained page, a section per listener (the 20 with
/// most half-established connections), drawn like a run's: the connections over time, a lifeline per connection kept
/// for details (every one that is not plainly accepted; all with --all), a sequence diagram per fate.
/// </summary>
internal static class ExplainHtml
{
    private const int MaxListeners = 20;

    public static string Render(ExplainInput input, ExplainReport report, AnalysisContext context)
    {
        var html = new StringBuilder(64 * 1024 + report.Kept.Count * 256);
        string files = string.Join(", ", input.Files.Select(Path.GetFileName));
        HtmlPage.Head(html, $"halfway explain {files}");
        html.Append("<h1>halfway explain — ").Append(E(files)).Append("</h1>\n");
        var read = input.Read;
        long origin = read?.FirstTimestampMicroseconds ?? (report.Kept.Count > 0 ? report.Kept.Min(c => c.FirstSeenAtMicroseconds) : 0);
        if (read is not null)
            html.Append("<p class=\"muted\">").Append(E(string.Create(CultureInfo.InvariantCulture,
                $"Read {input.Files.Count} file(s): {read.Frames:N0} frames, {read.TcpPackets:N0} TCP packets analysed."))).Append("</p>\n");
        html.Append("<p>").Append(E(string.Create(CultureInfo.InvariantCulture, $"{report.Connections:N0} connections, {report.HalfEstablished:N0} half-established."))).Append("</p>\n");
        if (report.VantagePoint() is { } vantage)
            html.Append("<p>Capture point: ").Append(E(vantage)).Append(".</p>\n");
        foreach (var warning in read?.Warnings ?? [])
            html.Append("<p class=\"warning\">warning: ").Append(E(warning.ToString())).Append("</p>\n");

        var listeners = report.Listeners.ToList();
        for (int i = 0; i < Math.Min(listeners.Count, MaxListeners); i++)
            Listener(html, report, context, listeners[i], i, origin);
        if (listeners.Count > MaxListeners)
            html.Append("<p class=\"muted\">").Append(E($"{listeners.Count - MaxListeners} more listeners: `halfway explain --json` lists them all.")).Append("</p>\n");
        if (report.HalfEstablished > 0)
        {
            html.Append("<h2>What one capture point cannot tell</h2><ul>\n");
            foreach (var limit in report.Limits())
                html.Append("<li>").Append(E(limit)).Append("</li>\n");
            html.Append("</ul>\n");
        }
        HtmlPage.Scripts(html);
        return html.ToString();
    }

    private static void Listener(StringBuilder html, ExplainReport report, AnalysisContext context, ListenerSummary listener, int index, long origin)
    {
        var kept = report.Kept.Where(c => c.Server == listener.Server).ToList();
        html.Append($"<section class=\"scenario\" id=\"s{index}\" data-name=\"{E(listener.Server.ToString())}\" data-connections=\"{listener.Connections}\" data-drawn=\"{kept.Count}\" data-half-established=\"{listener.HalfEstablished}\">\n");
        html.Append($"<h2>Listener {E(listener.Server.ToString())} <span class=\"muted\">— {listener.Connections:N0} connections, {listener.HalfEstablished:N0} half-established</span></h2>\n");
        HtmlPage.FateChips(html, listener.ByFate.Select(f => (FateNames.Name(f.Fate), f.Count)), listener.HalfEstablished);
        if (kept.Count < listener.Connections)
            html.Append("<p class=\"muted\">").Append(E(string.Create(CultureInfo.InvariantCulture,
                $"Drawn: the {kept.Count:N0} connections kept for details; {listener.Connections - kept.Count:N0} plainly accepted ones are counted, not drawn (`--all` draws them)."))).Append("</p>\n");
        var causes = report.LikelyCauses(listener);
        if (causes.Count > 0)
        {
            html.Append("<h3>Causes, as far as this capture can tell</h3><ul class=\"causes\">\n");
            foreach (var cause in causes)
                html.Append("<li data-support=\"").Append(E(cause.SupportName)).Append("\"><b>[").Append(E(cause.SupportName)).Append("] ").Append(E(cause.Name))
                    .Append("</b>: ").Append(E(cause.Evidence)).Append(". To confirm on the server: ").Append(E(cause.Confirm)).Append(".</li>\n");
            html.Append("</ul>\n");
        }

        double Ms(long? at) => at is { } v ? Math.Round((v - origin) / 1000.0, 3) : double.NaN;
        double? Maybe(long? at) => at is { } v ? Ms(v) : null;
        var connections = kept.Select(c =>
        {
            var rst = c.Events.FirstOrDefault(IsRst);
            return new HtmlConnection(c.Client.ToString(), c.FateName, c.HalfEstablished, c.Kind, Ms(c.FirstSeenAtMicroseconds), Maybe(c.ConnectedAtMicroseconds),
                Maybe(c.ServerCompletedAtMicroseconds), Maybe(c.AcceptedAtMicroseconds), Ms(c.LastSeenAtMicroseconds),
                IsRst(rst) ? Ms(rst.AtMicroseconds) : null, IsRst(rst) ? (rst.Kind == ConnectionEventKind.ClientRst ? "client" : "server") : null,
                c.Timeline.Select(t => new TimelineReport(Ms(t.AtMicroseconds), Column(t.Column), t.Text)).ToList());
        }).ToList();
        var fates = kept.Select(c => c.Fate).Distinct().OrderBy(f => f).ToList();
        var representatives = fates.Select(f => (FateNames.Name(f), kept.IndexOf(FateExplainer.Representative(kept.Where(c => c.Fate == f).ToList())))).ToList();
        double duration = connections.Count > 0 ? connections.Max(c => c.EndMs ?? 0) : 0;
        var data = new HtmlSectionData(index, listener.Server.ToString(), listener.Server.ToString(), duration, null, [], connections, representatives, FromCapture: true);
        HtmlPage.Pictures(html, data, "One line per connection, from its first packet to its last, on the capture's time axis: grey until the client's ACK, dashed orange while half-established (the client connected, the server not), then the fate's colour; a red dot at its first RST. Click a line for its sequence.", serverOverTime: false);

        html.Append("<h3>Each fate explained</h3>\n");
        foreach (var fate in fates)
        {
            var lines = FateExplainer.ExplainFate(fate, kept, context);
            if (lines.Count == 0)
                continue;
            var diagram = SequenceDiagram.Render(FateExplainer.Representative(kept.Where(c => c.Fate == fate).ToList()));
            html.Append($"<details><summary>{E(lines[0])}</summary><pre>{E(string.Join("\n", lines) + "\n" + diagram)}</pre></details>\n");
        }
        html.Append("</section>\n");
    }

    private static bool IsRst(ConnectionEvent e) => ReportBuilder.IsRst(e);

    private static string Column(TimelineColumn column) => ReportBuilder.ColumnName(column);

    private static string E(string text) => HtmlPage.E(text);
}
