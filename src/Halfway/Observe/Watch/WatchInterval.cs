using System.Globalization;

namespace Halfway.Observe.Watch;

/// <summary>Parses the sampling interval: seconds ("1", "0.5", "2s") or milliseconds ("250ms").</summary>
internal static class WatchInterval
{
    public static readonly TimeSpan Minimum = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan Maximum = TimeSpan.FromHours(1);

    public static TimeSpan Parse(string text)
    {
        string trimmed = text.Trim();
        double scale = 1;
        if (trimmed.EndsWith("ms", StringComparison.OrdinalIgnoreCase))
        {
            scale = 0.001;
            trimmed = trimmed[..^2];
        }
        else if (trimmed.EndsWith('s') || trimmed.EndsWith('S'))
        {
            trimmed = trimmed[..^1];
        }
        if (!double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || double.IsNaN(value))
            throw new HalfwayException($"bad interval '{text}': give seconds (1, 0.5, 2s) or milliseconds (250ms)");
        var interval = TimeSpan.FromSeconds(value * scale);
        if (interval < Minimum || interval > Maximum)
            throw new HalfwayException($"bad interval '{text}': give a value from {Minimum.TotalMilliseconds:0} ms to {Maximum.TotalHours:0} h");
        return interval;
    }
}
