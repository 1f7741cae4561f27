using System.Text.Json;
using AngleSharp.Html.Parser;
using Halfway.Tests.Support;

namespace Halfway.Tests.Reports;

/// <summary>
/// What a report.html must be, checked in a real browser: it opens from file:// with no console message and no network
/// request, and what it draws is what report.json holds: one lifeline per connection, one sequence diagram per fate,
/// the same fate counts.
/// </summary>
public static class HtmlReportChecks
{
    public static void AssertDrawsTheReport(string html, JsonElement report)
    {
        var page = HeadlessBrowser.Load(html);
        Assert.True(page.ConsoleLines.Count == 0, "the page wrote to the console:\n" + string.Join("\n", page.ConsoleLines));
        Assert.True(page.PageRequests.Count == 0, "the page made network requests: " + string.Join(", ", page.PageRequests));
        var document = new HtmlParser().ParseDocument(page.Dom);
        Assert.NotNull(document.Body!.GetAttribute("data-drawn-ms"));
        var sections = document.QuerySelectorAll("section.scenario").ToList();
        var scenarios = report.GetProperty("scenarios").EnumerateArray().ToList();
        Assert.Equal(scenarios.Count, sections.Count);
        for (int i = 0; i < scenarios.Count; i++)
        {
            var scenario = scenarios[i];
            var section = sections[i];
            string name = scenario.GetProperty("name").GetString()!;
            var connections = scenario.GetProperty("connections").EnumerateArray().ToList();
            Assert.Equal(name, section.GetAttribute("data-name"));
            Assert.Equal(connections.Count.ToString(), section.GetAttribute("data-connections"));

            var lives = section.QuerySelectorAll("svg.lifelines g.life").ToList();
            Assert.True(connections.Count == lives.Count, $"{name}: {lives.Count} lifelines for {connections.Count} connections");
            var fates = connections.GroupBy(c => c.GetProperty("fate").GetString()!).ToDictionary(g => g.Key, g => g.Count());
            var drawnFates = lives.GroupBy(l => l.GetAttribute("data-fate")!).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(fates.OrderBy(f => f.Key), drawnFates.OrderBy(f => f.Key));

            var chips = section.QuerySelectorAll(".chip.fate").ToDictionary(c => c.GetAttribute("data-fate")!, c => int.Parse(c.GetAttribute("data-count")!));
            var reported = scenario.GetProperty("fates").EnumerateObject().ToDictionary(f => f.Name, f => f.Value.GetInt32());
            Assert.Equal(reported.OrderBy(f => f.Key), chips.OrderBy(f => f.Key));
            Assert.Equal(connections.Count(c => c.GetProperty("half_established").GetBoolean()).ToString(), section.QuerySelector(".half-count")!.TextContent);

            var diagrams = section.QuerySelectorAll(".representatives figure.sequence").ToList();
            Assert.Equal(fates.Keys.Order(), diagrams.Select(d => d.GetAttribute("data-fate")!).Order());
            Assert.All(diagrams, d => Assert.NotNull(d.QuerySelector("svg.sequence-diagram")));
            if (scenario.GetProperty("server_over_time").ValueKind != JsonValueKind.Null)
                Assert.NotNull(section.QuerySelector(".chart-queue .uplot"));
            Assert.NotNull(section.QuerySelector(".chart-counts .uplot"));
        }
    }
}
