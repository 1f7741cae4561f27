namespace Halfway.Reports.Html;

/// <summary>What one section of a report page draws: a scenario of a run, or a listener of a capture.</summary>
internal sealed record HtmlSectionData(int Id, string Name, string ServerAddress, double DurationMs, ServerOverTimeReport? Server,
    IReadOnlyList<CounterSampleReport> Counters, IReadOnlyList<HtmlConnection> Connections, IReadOnlyList<(string Fate, int Index)> Representatives, bool FromCapture = false);
