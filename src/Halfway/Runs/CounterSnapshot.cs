namespace Halfway.Runs;

/// <summary>The server host's counters at one moment: change since the run started, by nstat name.</summary>
internal sealed record CounterSnapshot(double AtMs, Dictionary<string, long> SinceStart);
