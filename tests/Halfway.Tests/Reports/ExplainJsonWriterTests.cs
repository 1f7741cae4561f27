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

    [Fact]
    public void Timeline_labels_written_in_place_read_as_the_event_texts()
    {
        var flagSets = new[] { Halfway.Wire.TcpFlags.Ack, Halfway.Wire.TcpFlags.Ack | Halfway.Wire.TcpFlags.Psh, Halfway.Wire.TcpFlags.Fin | Halfway.Wire.TcpFlags.Ack,
            Halfway.Wire.TcpFlags.Rst | Halfway.Wire.TcpFlags.Ack };
        var values = new List<long> { -1, 0, 1, 2, 100, 1460, 2_500_000 };
        foreach (var flags in flagSets)
            foreach (long length in new long[] { 0, 1, 500 })
                values.Add(((long)flags << 32) | length);
        int checkedLabels = 0;
        foreach (var kind in Enum.GetValues<Halfway.Analysis.ConnectionEventKind>())
        {
            foreach (long value in values)
            {
                var e = new Halfway.Analysis.ConnectionEvent(kind, 1_000_000, value);
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
                    ExplainJsonWriter.WriteEventLabel(json, e);
                string written = System.Text.Json.JsonSerializer.Deserialize<string>(buffer.WrittenSpan)!;
                Assert.True(Halfway.Analysis.EventText.Label(e) == written, $"{kind} {value}: expected {Halfway.Analysis.EventText.Label(e)} vs actual {written}");
                checkedLabels++;
            }
        }
        Assert.True(checkedLabels > 100);
    }
}
