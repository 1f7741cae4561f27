namespace Halfway.Observe.Watch;

/// <summary>
/// An alert that is on: what it is (<see cref="Kind"/>: accept_queue_overflow, final_acks_lost or a
/// counter's short name), what it is about (a listener, or the namespace), since when, the figure
/// that was last reported (<see cref="ReportedLevel"/>, so that only a material change is printed)
/// and its running totals.
/// </summary>
internal sealed record ActiveAlert(string Kind, string Subject, DateTimeOffset Since, long ReportedLevel, long Level, long Total, long Peak)
{
    /// <summary>started (this sample), changed (this sample), ongoing, or ended (this sample; no longer on).</summary>
    public string State { get; init; } = "started";
}
