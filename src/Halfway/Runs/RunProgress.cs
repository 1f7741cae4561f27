namespace Halfway.Runs;

/// <summary>A scenario's progress at one moment, for live display.</summary>
internal sealed record RunProgress(string Scenario, double ElapsedMs, double BoundMs, int Total, int Connected, long Accepted, int Finished, string Phase)
{
    /// <summary>For client programs, whose calls halfway does not see: their copies and the client kernel's sockets. Null for the built-in client.</summary>
    public ClientProgramProgress.Snapshot? Programs { get; init; }
}
