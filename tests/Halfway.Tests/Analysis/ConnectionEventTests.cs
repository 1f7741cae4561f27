using Halfway.Analysis;

namespace Halfway.Tests.Analysis;

/// <summary>An event keeps its kind, time and value as given (its time and kind share 8 bytes), and refuses a time it cannot hold.</summary>
public sealed class ConnectionEventTests
{
    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(1_700_000_000_123_456L, -1L)]
    [InlineData(-5L, long.MaxValue)]
    [InlineData(ConnectionEvent.MaxMicroseconds, long.MinValue)]
    [InlineData(ConnectionEvent.MinMicroseconds, 42L)]
    public void Kind_time_and_value_come_back_as_given(long at, long value)
    {
        foreach (var kind in Enum.GetValues<ConnectionEventKind>())
        {
            var e = new ConnectionEvent(kind, at, value);
            Assert.Equal((kind, at, value), (e.Kind, e.AtMicroseconds, e.Value));
            Assert.Equal(e, new ConnectionEvent(kind, at, value));
        }
        Assert.NotEqual(new ConnectionEvent(ConnectionEventKind.ClientSyn, at, value), new ConnectionEvent(ConnectionEventKind.ClientFin, at, value));
    }

    [Theory]
    [InlineData(ConnectionEvent.MaxMicroseconds + 1)]
    [InlineData(ConnectionEvent.MinMicroseconds - 1)]
    [InlineData(long.MaxValue)]
    public void A_time_beyond_the_range_is_refused(long at) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionEvent(ConnectionEventKind.ClientSyn, at));
}
