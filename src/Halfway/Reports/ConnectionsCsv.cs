using System.Globalization;
using System.Text;

namespace Halfway.Reports;

/// <summary>
/// <c>connections.csv</c>: one row per client connection of every scenario, for spreadsheets and grep. Columns
/// (documented in docs/report-schema.md): scenario, id, client, fate, half_established, kind, the connect call's
/// result, errno, return time and duration, then each later step's name, result, errno and time (as many step
/// columns as the scenario with the most steps), accepted_at_ms, first_rst_at_ms, first_rst_from, open_at_end.
/// Times are ms since the lab started; an empty cell is "did not happen" (or a step the connection never reached).
/// </summary>
internal static class ConnectionsCsv
{
    public const string FileName = "connections.csv";

    public static string Render(RunReport report)
    {
        int laterSteps = report.Scenarios.SelectMany(s => s.Connections).Select(c => c.Steps.Count - 1).DefaultIfEmpty(0).Max();
        var text = new StringBuilder();
        var header = new List<string> { "scenario", "id", "client", "fate", "half_established", "kind", "connect_result", "connect_errno", "connect_at_ms", "connect_ms" };
        for (int i = 2; i <= laterSteps + 1; i++)
            header.AddRange([$"step{i}", $"step{i}_result", $"step{i}_errno", $"step{i}_at_ms"]);
        header.AddRange(["accepted_at_ms", "first_rst_at_ms", "first_rst_from", "open_at_end"]);
        Line(text, header);
        foreach (var scenario in report.Scenarios)
            foreach (var c in scenario.Connections)
            {
                var connect = c.Steps.Count > 0 ? c.Steps[0] : null;
                var row = new List<string>
                {
                    scenario.Name, Number(c.Id), c.Client ?? "", c.Fate, c.HalfEstablished ? "true" : "false", c.Kind ?? "",
                    connect?.Result ?? "", connect?.Errno ?? "", Milliseconds(connect?.AtMs), Milliseconds(connect?.DurationMs),
                };
                for (int i = 1; i <= laterSteps; i++)
                {
                    var step = i < c.Steps.Count ? c.Steps[i] : null;
                    row.AddRange([step?.Step ?? "", step?.Result ?? "", step?.Errno ?? "", Milliseconds(step?.AtMs)]);
                }
                row.AddRange([Milliseconds(c.AcceptedAtMs), Milliseconds(c.FirstRstAtMs), c.FirstRstFrom ?? "", c.OpenAtEnd ? "true" : "false"]);
                Line(text, row);
            }
        return text.ToString();
    }

    private static void Line(StringBuilder text, IEnumerable<string> cells)
    {
        bool first = true;
        foreach (var cell in cells)
        {
            if (!first)
                text.Append(',');
            first = false;
            text.Append(Quote(cell));
        }
        text.Append('\n');
    }

    /// <summary>RFC 4180: a cell holding a comma, quote or line break is quoted, its quotes doubled.</summary>
    public static string Quote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") < 0 ? cell : "\"" + cell.Replace("\"", "\"\"") + "\"";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Milliseconds(double? ms) => ms is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "";
}
