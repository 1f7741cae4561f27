namespace Halfway.Reports;

/// <summary>
/// One of the user's programs in the run: what ran, how it ended, and where its output is. ended_by: "exited" (by
/// itself), "SIGTERM" or "SIGKILL" (sent by halfway to its process group when the scenario ended); exit_code is the
/// program's own, or 128 + the signal's number.
/// </summary>
internal sealed record ProgramReport(
    string Role,
    List<string> Command,
    int Pid,
    double StartedAtMs,
    double? ExitedAtMs,
    string? EndedBy,
    int? ExitCode,
    bool ExitedByItself,
    string Stdout,
    string Stderr,
    bool OutputCut);
