using System.Text.Json;
using AngleSharp.Html.Parser;
using Halfway.Tests.Analysis;
using Halfway.Tests.Support;

namespace Halfway.Tests.Reports;

/// <summary>`explain --html` on the example capture: the page opens offline in Chromium and draws what the JSON report says.</summary>
public sealed class ExplainHtmlBrowserTests
{
    [Fact]
    public void The_example_captures_page_draws_every_kept_connection_and_a_diagram_per_fate()
    {
        string page = Path.Combine(Path.GetTempPath(), $"halfway-explain-{Guid.NewGuid():N}.html");
        try
        {
            var (exitCode, _, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", RealCaptureTests.ExamplePath, "--html", page);
            Assert.True(exitCode == 0, $"explain --html failed ({exitCode}): {stderr}");
            var (jsonExit, json, jsonErr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", RealCaptureTests.ExamplePath, "--json");
            Assert.True(jsonExit == 0, jsonErr);
            using var report = JsonDocument.Parse(json);

            var load = HeadlessBrowser.Load(page);
            Assert.True(load.ConsoleLines.Count == 0, "the page wrote to the console:\n" + string.Join("\n", load.ConsoleLines));
            Assert.True(load.PageRequests.Count == 0, "the page made network requests: " + string.Join(", ", load.PageRequests));
            var document = new HtmlParser().ParseDocument(load.Dom);
            var sections = document.QuerySelectorAll("section.scenario").ToList();
            var listeners = report.RootElement.GetProperty("listeners").EnumerateArray().ToList();
            Assert.Equal(listeners.Count, sections.Count);
            var listed = report.RootElement.GetProperty("connections").EnumerateArray().ToList();
            for (int i = 0; i < listeners.Count; i++)
            {
                string server = listeners[i].GetProperty("server").GetString()!;
                var section = sections[i];
                Assert.Equal(server, section.GetAttribute("data-name"));
                var chips = section.QuerySelectorAll(".chip.fate").ToDictionary(c => c.GetAttribute("data-fate")!, c => int.Parse(c.GetAttribute("data-count")!));
                var fates = listeners[i].GetProperty("fates").EnumerateObject().ToDictionary(f => f.Name, f => f.Value.GetInt32());
                Assert.Equal(fates.OrderBy(f => f.Key), chips.OrderBy(f => f.Key));
                // Drawn: exactly the connections the JSON lists for this listener (the plainly accepted ones are counted only).
                var drawn = section.QuerySelectorAll("svg.lifelines g.life").ToList();
                var mine = listed.Where(c => c.GetProperty("server").GetString() == server).ToList();
                Assert.Equal(mine.Count, drawn.Count);
                Assert.Equal(mine.Count.ToString(), section.GetAttribute("data-drawn"));
                var diagrams = section.QuerySelectorAll(".representatives figure.sequence").Select(f => f.GetAttribute("data-fate")!).Order().ToList();
                Assert.Equal(mine.Select(c => c.GetProperty("fate").GetString()!).Distinct().Order().ToList(), diagrams);
            }
        }
        finally
        {
            File.Delete(page);
        }
    }

    [Fact]
    public void An_html_path_in_a_missing_folder_is_refused_before_reading_with_exit_2()
    {
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", RealCaptureTests.ExamplePath, "--html", "/nonexistent-folder/x.html");
        Assert.Equal(2, exitCode);
        Assert.Contains("--html /nonexistent-folder/x.html: its folder does not exist", stderr);
        Assert.Equal("", stdout);
    }
}
