using System.Text;
using Halfway.Reports;

namespace Halfway.Tests.Reports;

/// <summary>The explain JSON's seconds: exact decimals from µs, as a decimal division would print them, never in exponent form.</summary>
public sealed class ExplainJsonWriterTests
{
    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1L, "0.000001")]
    [InlineData(14L, "0.000014")]
    [InlineData(1_017_188L, "1.017188")]
    [InlineData(2_500_000L, "2.5")]
    [InlineData(3_000_000L, "3")]
    [InlineData(1_795_470_376_484_977L, "1795470376.484977")]
    [InlineData(-1_500L, "-0.0015")]
    [InlineData(10L, "0.00001")]
    [InlineData(100_000L, "0.1")]
    [InlineData(999_999L, "0.999999")]
    [InlineData(1_000_010L, "1.00001")]
    [InlineData(-999_999L, "-0.999999")]
    [InlineData(long.MinValue, "-9223372036854.775808")]
    public void Seconds(long micros, string expected)
    {
        Span<byte> text = stackalloc byte[24];
        int n = ExplainJsonWriter.FormatSeconds(micros, text);
        Assert.Equal(expected, Encoding.ASCII.GetString(text[..n]));
        if (micros != long.MinValue)
            Assert.Equal((micros / 1_000_000m).ToString(System.Globalization.CultureInfo.InvariantCulture), expected);
    }
}
