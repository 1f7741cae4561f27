namespace Halfway.Runs;

/// <summary>A scenario's progress at one moment, for live display.</summary>
internal sealed record RunProgress(string Scenario, double ElapsedMs, double BoundMs, int Total, int Connected, long Accepted, int Finished, string Phase);
