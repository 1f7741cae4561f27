using System.Net;
using System.Text;

namespace Halfway.Reports.Html;

/// <summary>
/// What every report page shares: the head (no request allowed: a Content-Security-Policy forbids any), the fate
/// chips, the places report.js draws into, and the inlined scripts.
/// </summary>
internal static class HtmlPage
{
    public static void Head(StringBuilder html, string title)
    {
        html.Append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append("</title>\n<style>")
            .Append(HtmlAssets.Read("uPlot.min.css")).Append('\n').Append(HtmlAssets.Read("report.css")).Append("</style></head>\n<body>\n");
    }

    public static void FateChips(StringBuilder html, IEnumerable<(string Fate, long Count)> fates, long halfEstablished)
    {
        html.Append("<div class=\"chips\">");
        foreach (var (fate, count) in fates)
            html.Append($"<span class=\"chip fate\" data-fate=\"{E(fate)}\" data-count=\"{count}\" style=\"background:{FateColor(fate)}33;border-color:{FateColor(fate)}\">{E(fate)} {count}</span>");
        html.Append($"<span class=\"chip\">half-established at some moment: <b class=\"half-count\">{halfEstablished}</b></span></div>\n");
    }

    /// <summary>The charts, the lifelines and the diagrams of one section, drawn by report.js from <paramref name="data"/>.</summary>
    public static void Pictures(StringBuilder html, HtmlSectionData data, string lifelineNote, bool serverOverTime)
    {
        if (serverOverTime)
            html.Append("<h3>The server over time</h3><div class=\"chart chart-queue\"></div><div class=\"chart chart-counts\"></div>\n");
        else
            html.Append("<h3>Over time</h3><div class=\"chart chart-counts\"></div>\n");
        html.Append("<h3>Every connection</h3><p class=\"muted\">").Append(E(lifelineNote)).Append("</p>\n");
        html.Append("<div class=\"controls\"><label><input type=\"checkbox\" class=\"group-by-fate\" checked> group by fate</label></div>\n");
        html.Append("<div class=\"lifelines-scroll\"><div class=\"lifelines\"></div></div><div class=\"picked\"></div>\n");
        html.Append("<h3>One connection of each fate</h3><div class=\"representatives\"></div>\n");
        html.Append("<script type=\"application/json\" class=\"scenario-data\">").Append(HtmlData.Json(data)).Append("</script>\n");
    }

    public static void Scripts(StringBuilder html) =>
        html.Append("<script>").Append(HtmlAssets.ForScript(HtmlAssets.Read("uPlot.iife.min.js"))).Append("</script>\n<script>")
            .Append(HtmlAssets.ForScript(HtmlAssets.Read("report.js"))).Append("</script>\n</body></html>\n");

    public static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    /// <summary>The colours report.js uses, for the chips written here.</summary>
    public static string FateColor(string fate) => fate switch
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

    public static string E(string text) => WebUtility.HtmlEncode(text);
}
