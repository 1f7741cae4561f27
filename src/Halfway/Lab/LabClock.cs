using System.Diagnostics;

namespace Halfway.Lab;

/// <summary>One time base for everything a run observes: microseconds since the lab started.</summary>
internal sealed class LabClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public long NowMicroseconds => ToMicroseconds(Stopwatch.GetTimestamp());

    public long ToMicroseconds(long stopwatchTimestamp) =>
        (long)((stopwatchTimestamp - _start) * (1_000_000.0 / Stopwatch.Frequency));

    public double NowMilliseconds => NowMicroseconds / 1000.0;
}
