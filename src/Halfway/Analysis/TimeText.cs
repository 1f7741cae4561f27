using System.Globalization;

namespace Halfway.Analysis;

/// <summary>Times in explanations: durations as "4 ms", "1.0 s"; offsets from the connection's start as "+1.002 s".</summary>
internal static class TimeText
{
    public static string Duration(long micros)
    {
        double abs = Math.Abs(micros);
        if (abs < 1000)
            return $"{micros} µs";
        if (abs < 1_000_000)
            return string.Create(CultureInfo.InvariantCulture, $"{micros / 1000.0:0.#} ms");
        return string.Create(CultureInfo.InvariantCulture, $"{micros / 1_000_000.0:0.0##} s");
    }

    public static string Offset(long micros, long origin) =>
        string.Create(CultureInfo.InvariantCulture, $"+{(micros - origin) / 1_000_000.0:0.000} s");
}
