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
        if (abs < ExactBelow)
            return abs < 1_000_000 ? Decimal(micros, 100, minDigits: 0, maxDigits: 1, " ms") : Decimal(micros, 1000, minDigits: 1, maxDigits: 3, " s");
        if (abs < 1_000_000)
            return string.Create(CultureInfo.InvariantCulture, $"{micros / 1000.0:0.#} ms");
        return string.Create(CultureInfo.InvariantCulture, $"{micros / 1_000_000.0:0.0##} s");
    }

    /// <summary>
    /// Below this many µs a duration is written from integers, as the format strings above write it (they round the
    /// value's decimal digits half away from zero), without their floating-point formatting: every half-established
    /// connection's reason has one, and formatting them took 2 % of a busy capture's analysis.
    /// </summary>
    internal const long ExactBelow = 1_000_000_000_000;

    /// <summary><paramref name="micros"/> in units of <paramref name="unit"/> × 10^maxDigits µs, rounded half away from zero, with <paramref name="minDigits"/> to <paramref name="maxDigits"/> decimals.</summary>
    private static string Decimal(long micros, long unit, int minDigits, int maxDigits, string suffix)
    {
        long magnitude = Math.Abs(micros);
        long steps = (magnitude + unit / 2) / unit; // in 10^-maxDigits of the displayed unit
        long scale = maxDigits == 1 ? 10 : 1000;
        long whole = steps / scale, fraction = steps % scale;
        int digits = maxDigits;
        while (digits > minDigits && fraction % 10 == 0)
        {
            fraction /= 10;
            digits--;
        }
        string sign = micros < 0 && steps != 0 ? "-" : "";
        string text = digits == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{sign}{whole}")
            : string.Create(CultureInfo.InvariantCulture, $"{sign}{whole}.{fraction.ToString(new string('0', digits), CultureInfo.InvariantCulture)}");
        return text + suffix;
    }

    public static string Offset(long micros, long origin) =>
        string.Create(CultureInfo.InvariantCulture, $"+{(micros - origin) / 1_000_000.0:0.000} s");
}
