using System.Globalization;
using System.Text.RegularExpressions;

namespace Halfway.Scenarios;

/// <summary>Durations as scenario files write them: 250ms, 1.5s, 4min, 2h, 100us.</summary>
internal static partial class Durations
{
    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min|h)\s*$")]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var match = Pattern().Match(text);
        if (!match.Success)
            return false;
        double number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        value = match.Groups[2].Value switch
        {
            "us" or "µs" => TimeSpan.FromMicroseconds(number),
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" => TimeSpan.FromSeconds(number),
            "m" or "min" => TimeSpan.FromMinutes(number),
            _ => TimeSpan.FromHours(number),
        };
        return true;
    }

    public static string Format(TimeSpan value) => value.TotalSeconds switch
    {
        >= 60 when value.TotalSeconds % 60 == 0 => $"{value.TotalMinutes:0}min",
        >= 1 => $"{value.TotalSeconds:0.###}s",
        _ => $"{value.TotalMilliseconds:0.###}ms",
    };
}
