namespace Halfway.Reports.Html;

/// <summary>
/// One connection as report.js draws it: times in ms on the section's axis (null: did not happen or not seen); its
/// lifeline runs from <see cref="StartMs"/> to <see cref="EndMs"/>, its sequence diagram from its timeline.
/// </summary>
internal sealed record HtmlConnection(string Client, string Fate, bool HalfEstablished, string? Kind, double? StartMs, double? ConnectedMs,
    double? ServerCompletedMs, double? AcceptedMs, double? EndMs, double? FirstRstMs, string? FirstRstFrom, IReadOnlyList<TimelineReport> Timeline);
