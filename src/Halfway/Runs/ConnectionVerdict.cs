using Halfway.Analysis;

namespace Halfway.Runs;

/// <summary>One connection's verdict in a run: its fate, and the analysis' record with the evidence and timeline (null when the analysis saw nothing of it).</summary>
internal sealed record ConnectionVerdict(string Fate, bool HalfEstablished, string? Kind, ConnectionReport? Record)
{
    public IReadOnlyList<ConnectionEvent> Evidence => Record?.Evidence ?? [];
    public IReadOnlyList<TimelineEntry> Timeline => Record?.Timeline ?? [];
}
