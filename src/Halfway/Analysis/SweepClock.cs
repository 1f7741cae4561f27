using System.Runtime.CompilerServices;

namespace Halfway.Analysis;

/// <summary>
/// When an engine sweeps its flows: before the first packet at least the sweep interval after the previous sweep (the
/// first packet starts the clock). An engine keeps its own time with it; a caller that keeps the time for engines
/// (<see cref="AnalysisEngine.TakeTimeFromCaller"/>) keeps it alike.
/// </summary>
internal struct SweepClock
{
    private long _nextSweepAt;
    /// <summary>The latest packet time seen (µs), long.MinValue before the first.</summary>
    public long Now;

    public static SweepClock New() => new() { _nextSweepAt = long.MinValue, Now = long.MinValue };

    public readonly bool Started => _nextSweepAt != long.MinValue;

    /// <summary>A packet at <paramref name="at"/> (µs): true when the flows are to be swept, at that time, before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Tick(long at, long intervalMicroseconds)
    {
        if (at > Now)
            Now = at;
        if (_nextSweepAt == long.MinValue)
        {
            _nextSweepAt = at + intervalMicroseconds;
            return false;
        }
        if (at < _nextSweepAt)
            return false;
        _nextSweepAt = at + intervalMicroseconds;
        return true;
    }
}
