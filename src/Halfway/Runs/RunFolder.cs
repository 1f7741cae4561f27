using System.Globalization;
using Halfway.Reports;

namespace Halfway.Runs;

/// <summary>
/// The run folder <c>ROOT/yyyyMMdd-HHmmss-NAME/</c>: analyses the runs and writes one capture per scenario and
/// <c>report.json</c>, then returns the report and its JSON text.
/// </summary>
public static class RunFolder
{
    public static async Task<(RunReport Report, string Json)> WriteAsync(IReadOnlyList<ScenarioRun> runs, string root, IReadOnlyList<string> arguments, CancellationToken token)
    {
        string name = runs.Count == 1 ? runs[0].Scenario.Name : string.Join("+", arguments.Select(Path.GetFileNameWithoutExtension));
        if (name.Length > 60)
            name = name[..60];
        string folder = Path.Combine(root, $"{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{name}");
        Directory.CreateDirectory(folder);
        var captures = runs.Select(run => (string?)RunCapture.Write(run, folder)).ToList();
        var analyses = runs.Select(ScenarioAnalysis.Analyze).ToList();
        var report = ReportBuilder.Build(runs, analyses, folder, captures);
        string json = report.ToJson();
        await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), json, token);
        return (report, json);
    }
}
