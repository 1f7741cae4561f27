using System.Text.Json;
using System.Text.RegularExpressions;

namespace Halfway.Tests.Packaging;

/// <summary>The rules, their unit tests, the dashboard and the unit file, checked by the real tools.</summary>
public sealed partial class PackagingTests
{
    private static readonly TimeSpan ToolTime = TimeSpan.FromSeconds(60);

    [Fact]
    public void Promtool_accepts_the_rules_and_their_unit_tests_pass()
    {
        var check = Tool.Run("/usr/bin/promtool", ["check", "rules", "halfway-rules.yml"], ToolTime, Tool.Packaging);
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 4 rules found", check.Output);
        var test = Tool.Run("/usr/bin/promtool", ["test", "rules", "halfway-rules.test.yml"], ToolTime, Tool.Packaging);
        Assert.True(test.ExitCode == 0, test.Output);
    }

    [Fact]
    public void Every_rule_has_a_firing_unit_test()
    {
        string rules = File.ReadAllText(Path.Combine(Tool.Packaging, "halfway-rules.yml"));
        string tests = File.ReadAllText(Path.Combine(Tool.Packaging, "halfway-rules.test.yml"));
        var names = AlertName().Matches(rules).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(4, names.Count);
        foreach (var name in names)
            Assert.Matches($@"alertname: {name}\s+exp_alerts:\s+- exp_labels", tests);
    }

    [Fact]
    public void The_dashboard_uses_only_metrics_documented_in_docs_watch()
    {
        string docs = File.ReadAllText(Path.Combine(Tool.RepositoryRoot(), "docs", "watch.md"));
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Tool.Packaging, "halfway-dashboard.json")));
        var expressions = Expressions(dashboard).ToList();
        Assert.NotEmpty(expressions);
        foreach (var expression in expressions)
        {
            var metrics = MetricName().Matches(expression).Select(m => m.Value).ToList();
            Assert.NotEmpty(metrics);
            foreach (var metric in metrics)
                Assert.True(Regex.IsMatch(docs, $@"\b{metric}\b"), $"{metric} (in '{expression}') is not documented in docs/watch.md");
        }
    }

    [Fact]
    public void Systemd_analyze_verifies_the_unit()
    {
        // verify checks that ExecStart's program exists: point it at one that does (the unit is otherwise as shipped).
        string directory = Directory.CreateTempSubdirectory("halfway-unit-").FullName;
        try
        {
            string unit = File.ReadAllText(Path.Combine(Tool.Packaging, "halfway-watch.service"));
            Assert.Contains("ExecStart=/usr/bin/halfway watch --no-kernel-events $HALFWAY_WATCH_ARGS", unit);
            Assert.Contains("--prometheus 127.0.0.1:9464", unit);
            string path = Path.Combine(directory, "halfway-watch.service");
            File.WriteAllText(path, unit.Replace("ExecStart=/usr/bin/halfway ", "ExecStart=/bin/true ", StringComparison.Ordinal));
            var verify = Tool.Run("systemd-analyze", ["verify", path], ToolTime);
            Assert.True(verify.ExitCode == 0 && !verify.Output.Contains("halfway-watch.service", StringComparison.Ordinal),
                $"systemd-analyze verify ({verify.ExitCode}): {verify.Output}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    internal static IEnumerable<string> Expressions(JsonDocument dashboard) =>
        dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!);

    [GeneratedRegex(@"- alert: (\w+)")]
    private static partial Regex AlertName();

    [GeneratedRegex(@"halfway_[a-z_]+")]
    private static partial Regex MetricName();
}
