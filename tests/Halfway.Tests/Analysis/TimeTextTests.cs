using System.Globalization;
using Halfway.Analysis;

namespace Halfway.Tests.Analysis;

/// <summary>Durations written from integers read exactly as the format strings wrote them from doubles.</summary>
public sealed class TimeTextTests
{
    /// <summary>The formatting <see cref="TimeText.Duration"/> replaced below <see cref="TimeText.ExactBelow"/>: the oracle.</summary>
    private static string WithDoubles(long micros)
    {
        double abs = Math.Abs(micros);
        if (abs < 1000)
            return $"{micros} µs";
        if (abs < 1_000_000)
            return string.Create(CultureInfo.InvariantCulture, $"{micros / 1000.0:0.#} ms");
        return string.Create(CultureInfo.InvariantCulture, $"{micros / 1_000_000.0:0.0##} s");
    }

    [Fact]
    public void Durations_read_as_the_doubles_format_wrote_them()
    {
        var values = new List<long> { 0, 1, 999, 1000, 1049, 1050, 1051, 1250, 1350, 9_950, 99_950, 999_949, 999_950, 999_999, 1_000_000,
            1_000_499, 1_000_500, 1_499_000, 1_999_500, 2_000_000, 59_999_999, 86_400_000_000, TimeText.ExactBelow - 1, TimeText.ExactBelow, long.MaxValue / 2 };
        var random = new Random(7);
        for (int i = 0; i < 200_000; i++)
        {
            int digits = random.Next(3, 13);
            values.Add(random.NextInt64((long)Math.Pow(10, digits)));
        }
        // Every rounding edge of the ms and s ranges: x50 and x500 µs, and their neighbours.
        for (long v = 1000; v < 3_000_000; v += 50)
            values.Add(v);
        foreach (long v in values.ToList())
            values.Add(-v);
        foreach (long v in values)
            Assert.True(WithDoubles(v) == TimeText.Duration(v), $"{v} µs: expected {WithDoubles(v)} vs actual {TimeText.Duration(v)}");
    }
}
