using System.Globalization;
using Halfway.Wire;

namespace Halfway.Observe.Watch;

/// <summary>
/// Turns samples into alert lines. It remembers, per listener, since when its accept queue has been
/// seen full and how many drops it had then, so an alert can say "full for 3 s; 120 drops".
/// </summary>
internal sealed class WatchAlerts
{
    private readonly Dictionary<IpEndpoint, (DateTimeOffset Since, long DropsBefore)> _full = new();

    public IReadOnlyList<string> Evaluate(WatchSample sample)
    {
        var alerts = new List<string>();
        foreach (var listener in sample.Listeners)
        {
            if (listener.AcceptQueueFull)
            {
                if (!_full.TryGetValue(listener.Address, out var since))
                    _full[listener.Address] = since = (sample.Time, listener.Drops - listener.DropsDelta);
                // Seen full at this sample and maybe during the interval before it: count that interval.
                var duration = sample.Time - since.Since + sample.Interval;
                alerts.Add(AcceptQueueFull(listener, duration, listener.Drops - since.DropsBefore));
            }
            else
            {
                if (_full.Remove(listener.Address, out var since))
                    alerts.Add($"accept queue of {listener.Address} no longer full ({listener.AcceptQueue} of {listener.AcceptQueueLimit}) after {Seconds(sample.Time - since.Since + sample.Interval)}");
                if (listener.DropsDelta > 0)
                    alerts.Add($"listener {listener.Address} dropped {listener.DropsDelta} in {Seconds(sample.Interval)} (accept queue {listener.AcceptQueue} of {listener.AcceptQueueLimit} now: it filled between samples)");
            }
        }
        foreach (var gone in _full.Keys.Where(k => !sample.Listeners.Any(l => l.Address == k)).ToList())
            _full.Remove(gone);

        bool listenerDrops = sample.Listeners.Any(l => l.DropsDelta > 0);
        foreach (var counter in sample.Counters.Where(c => c.Delta > 0))
        {
            if (CounterCatalogue.Find(counter.Name) is not { WatchAlert: true } known)
                continue;
            string? meaning = known.Meaning;
            // A listener's own drops already have their alert above; the namespace-wide count would repeat it.
            if (known == CounterCatalogue.ListenOverflows)
                meaning = listenerDrops ? null : meaning + " in this namespace (not on a watched listener)";
            if (meaning is not null)
                alerts.Add($"{counter.ShortName} +{counter.Delta} in {Seconds(sample.Interval)}: {meaning}");
        }
        return alerts;
    }

    private static string AcceptQueueFull(ListenerSample listener, TimeSpan duration, long drops)
    {
        string text = $"accept queue of {listener.Address} full ({listener.AcceptQueue} of {listener.AcceptQueueLimit}) for {Seconds(duration)}; {drops} drops";
        if (listener.SynRecvResending > 0)
            text += $"; SYN-RECV requests re-sending SYN-ACKs: {listener.SynRecvResending} (final ACKs being ignored)";
        else if (listener.SynRecv > 0)
            text += $"; SYN-RECV requests: {listener.SynRecv}";
        return text;
    }

    internal static string Seconds(TimeSpan span) => span.TotalSeconds >= 10
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0} s");
}
