using Halfway.Observe;

namespace Halfway.Traffic;

/// <summary>One client step's outcome. Errno: the kernel's errno name when a call failed, else null.</summary>
internal sealed record StepResult(
    int Index,
    ClientStep Step,
    CallResult Result,
    string? Errno,
    double AtMs,
    double DurationMs,
    string? Detail,
    TcpInfo? Info);
