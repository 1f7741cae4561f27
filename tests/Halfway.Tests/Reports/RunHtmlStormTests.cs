using System.Text.Json;
using Halfway.Reports;
using Halfway.Reports.Html;
using Halfway.Runs;
using Halfway.Scenarios;

namespace Halfway.Tests.Reports;

/// <summary>A 2,000-connection storm's report.html opens offline and draws every connection, as the browser shows it.</summary>
[Collection(LabCollection.Name)]
public sealed class RunHtmlStormTests
{
    [LabFact]
    public async Task A_storms_page_draws_one_lifeline_per_connection_and_a_diagram_per_fate()
    {
        var scenario = ScenarioParser.Parse("""
            name: html-storm
            duration: 40s
            link: { delay: 5ms }
            kernel:
              server: { net.ipv4.tcp_synack_retries: 1 }
              client: { net.ipv4.tcp_syn_retries: 2 }
            server: { port: 8080, backlog: 64, accept: { mode: rate, rate: 400 }, reply: Pong }
            clients:
              count: 2000
              rate: 4000
              steps:
                - connect: { timeout: 10s }
                - send: Ping
                - receive: { timeout: 8s }
                - close
            """, "storm.yaml");
        ScenarioRunner.Preflight([scenario]);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = await ScenarioRunner.RunAsync(scenario, null, bound.Token);
        string root = Path.Combine(Path.GetTempPath(), $"halfway-test-{Guid.NewGuid():N}");
        try
        {
            var (report, json) = await RunFolder.WriteAsync([run], root, ["storm.yaml"], bound.Token);
            using var document = JsonDocument.Parse(json);
            Assert.Equal(2000, document.RootElement.GetProperty("scenarios")[0].GetProperty("connections").GetArrayLength());
            HtmlReportChecks.AssertDrawsTheReport(Path.Combine(report.RunFolder, RunHtml.FileName), document.RootElement);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
