using System.Runtime.CompilerServices;

namespace Halfway.Analysis;

/// <summary>One typed event of a connection at a time (µs). <see cref="Value"/> depends on the kind (see <see cref="ConnectionEventKind"/>).</summary>
/// <remarks>
/// 16 bytes, the kind packed below the time: a busy capture keeps the events of tens of thousands of flows at once,
/// and each flow's are read back after seconds, from memory that has left the cache (24 bytes an event was 50 % more).
/// </remarks>
internal readonly record struct ConnectionEvent
{
    /// <summary>The times an event can hold: ±2^55 µs, over a thousand years either side of 1970.</summary>
    public const long MaxMicroseconds = (1L << 55) - 1;
    public const long MinMicroseconds = -(1L << 55);

    private readonly long _timeAndKind;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ConnectionEvent(ConnectionEventKind kind, long atMicroseconds, long value = 0)
    {
        if (atMicroseconds is > MaxMicroseconds or < MinMicroseconds)
            ThrowTimeOutOfRange(atMicroseconds);
        _timeAndKind = (atMicroseconds << 8) | (byte)kind;
        Value = value;
    }

    public ConnectionEventKind Kind => (ConnectionEventKind)(byte)_timeAndKind;
    public long AtMicroseconds => _timeAndKind >> 8;
    public long Value { get; }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTimeOutOfRange(long at) =>
        throw new ArgumentOutOfRangeException(nameof(at), at, $"an event's time must be within ±{MaxMicroseconds} µs");
}
