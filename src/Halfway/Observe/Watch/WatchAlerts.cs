using System.Globalization;

namespace Halfway.Observe.Watch;

/// <summary>
/// Turns samples into alerts that are printed when they start, when they change materially and when
/// they end (with their duration and totals), not at every sample. Per listener:
/// <list type="bullet">
/// <item>accept_queue_overflow: the accept queue is full, or the listener dropped since the last sample.</item>
/// <item>final_acks_lost: request sockets re-send their SYN-ACK while the accept queue has room. A full
/// queue would explain ignored final ACKs; with room, the ACKs never reached the listener.</item>
/// </list>
/// Per namespace: a watched counter that rose (syncookies sent, request queue drops, …).
/// A change is material when the alert's figure (requests waiting; drops or counter increments per
/// second) at least doubles since it was last printed, by at least <see cref="MinimumChange"/>.
/// </summary>
internal sealed class WatchAlerts
{
    public const string Overflow = "accept_queue_overflow";
    public const string FinalAcksLost = "final_acks_lost";
    public const long MinimumChange = 3;

    private readonly Dictionary<(string Kind, string Subject), ActiveAlert> _active = new();

    /// <summary>The alerts on after the last sample, and those that ended at it (State "ended").</summary>
    public IReadOnlyList<ActiveAlert> Current { get; private set; } = [];

    public IReadOnlyList<string> Evaluate(WatchSample sample)
    {
        var lines = new List<string>();
        var seen = new HashSet<(string, string)>();
        var current = new List<ActiveAlert>();
        double seconds = Math.Max(sample.Interval.TotalSeconds, 1e-3);

        foreach (var listener in sample.Listeners)
        {
            string subject = listener.Address.ToString();
            if (listener.AcceptQueueFull || listener.DropsDelta > 0)
            {
                long rate = (long)Math.Round(listener.DropsDelta / seconds);
                Update(Overflow, subject, rate, listener.DropsDelta, listener.SynRecvResending,
                    (alert, phase) => OverflowText(phase, listener, alert, sample));
            }
            bool requestsKnown = sample.SynRecvScanned;
            bool lostAcks = !listener.AcceptQueueFull && listener.SynRecvResending > 0;
            if (lostAcks || (!requestsKnown && _active.ContainsKey((FinalAcksLost, subject))))
            {
                // The figure is the requests waiting (they appear at once when a batch of clients connects;
                // their re-sends spread over the following second).
                long waiting = requestsKnown ? listener.SynRecv : _active[(FinalAcksLost, subject)].Level;
                Update(FinalAcksLost, subject, waiting, 0, waiting,
                    (alert, phase) => LostAckText(phase, listener, alert));
            }
        }

        bool listenerDrops = sample.Listeners.Any(l => l.DropsDelta > 0);
        foreach (var counter in sample.Counters.Where(c => c.Delta > 0))
        {
            if (CounterCatalogue.Find(counter.Name) is not { WatchAlert: true } known)
                continue;
            string? meaning = known.Meaning;
            // A listener's own drops already have their alert; the namespace-wide count would repeat it.
            if (known == CounterCatalogue.ListenOverflows)
                meaning = listenerDrops ? null : meaning + " in this namespace (not on a watched listener)";
            if (meaning is null)
                continue;
            long rate = (long)Math.Round(counter.Delta / seconds);
            Update(counter.ShortName, "namespace", rate, counter.Delta, rate, (alert, phase) => phase == "started"
                ? $"started: {counter.ShortName} +{counter.Delta} in {Seconds(sample.Interval)}: {meaning}"
                : $"changed: {counter.ShortName} now +{counter.Delta} in {Seconds(sample.Interval)} (was {alert.ReportedLevel}/s) for {Seconds(Duration(alert, sample))}; +{alert.Total} since it started");
        }

        foreach (var ((kind, subject), alert) in _active.Where(a => !seen.Contains(a.Key)).ToList())
        {
            _active.Remove((kind, subject));
            current.Add(alert with { State = "ended" });
            lines.Add(EndText(alert, sample));
        }
        Current = current;
        return lines;

        void Update(string kind, string subject, long level, long increment, long peak, Func<ActiveAlert, string, string> text)
        {
            seen.Add((kind, subject));
            if (!_active.TryGetValue((kind, subject), out var alert))
            {
                alert = new ActiveAlert(kind, subject, sample.Time - sample.Interval, level, level, increment, peak) { State = "started" };
                lines.Add(text(alert, "started"));
            }
            else
            {
                alert = alert with { Level = level, Total = alert.Total + increment, Peak = Math.Max(alert.Peak, peak), State = "ongoing" };
                if (IsMaterial(alert.ReportedLevel, level))
                {
                    lines.Add(text(alert, "changed"));
                    alert = alert with { ReportedLevel = level, State = "changed" };
                }
            }
            _active[(kind, subject)] = alert;
            current.Add(alert);
        }
    }

    /// <summary>
    /// At least doubled since last printed, and by at least <see cref="MinimumChange"/>. Only a worsening
    /// is printed: an alert that eases off on its way to ending would otherwise print once per step
    /// down; its end line gives the peak.
    /// </summary>
    internal static bool IsMaterial(long reported, long level) =>
        level - reported >= MinimumChange && level >= 2 * reported;

    private static TimeSpan Duration(ActiveAlert alert, WatchSample sample) => sample.Time - alert.Since;

    private static string OverflowText(string phase, ListenerSample listener, ActiveAlert alert, WatchSample sample)
    {
        string state = listener.AcceptQueueFull
            ? $"accept queue of {listener.Address} full ({listener.AcceptQueue} of {listener.AcceptQueueLimit})"
            : $"listener {listener.Address} dropped {listener.DropsDelta} in {Seconds(sample.Interval)} (accept queue {listener.AcceptQueue} of {listener.AcceptQueueLimit} now: it filled between samples)";
        string text = phase == "started"
            ? $"started: {state}; {listener.DropsDelta} drops in {Seconds(sample.Interval)}"
            : $"changed: {state} for {Seconds(Duration(alert, sample))}; now {listener.DropsDelta} drops in {Seconds(sample.Interval)} (was {alert.ReportedLevel}/s); {alert.Total} drops since it started";
        if (listener.SynRecvResending > 0)
            text += $"; SYN-RECV requests re-sending SYN-ACKs: {listener.SynRecvResending} (final ACKs being ignored)";
        else if (listener.SynRecv > 0)
            text += $"; SYN-RECV requests: {listener.SynRecv}";
        return text;
    }

    private static string LostAckText(string phase, ListenerSample listener, ActiveAlert alert) => phase == "started"
        ? $"started: final ACKs lost between client and listener {listener.Address}: {alert.Level} SYN-RECV requests waiting, {listener.SynRecvResending} re-sending SYN-ACKs while the accept queue has room ({listener.AcceptQueue} of {listener.AcceptQueueLimit}); the clients' ACKs do not arrive (a firewall, conntrack, a middlebox or packet loss; or SYNs from clients that never answer)"
        : $"changed: final ACKs lost between client and listener {listener.Address}: now {alert.Level} requests waiting (was {alert.ReportedLevel}), {listener.SynRecvResending} re-sending SYN-ACKs; accept queue {listener.AcceptQueue} of {listener.AcceptQueueLimit}";

    private static string EndText(ActiveAlert alert, WatchSample sample)
    {
        string after = Seconds(Duration(alert, sample));
        return alert.Kind switch
        {
            Overflow => $"ended: accept queue overflow at {alert.Subject} after {after}; {alert.Total} drops in all; at most {alert.Peak} requests re-sending SYN-ACKs",
            FinalAcksLost => $"ended: final ACKs lost at {alert.Subject} after {after}; at most {alert.Peak} requests waiting",
            _ => $"ended: {alert.Kind} stopped rising after {after}; +{alert.Total} in all",
        };
    }

    internal static string Seconds(TimeSpan span) => span.TotalSeconds >= 10
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0} s");
}
