using System.Globalization;
using System.Text;

namespace Halfway.Observe.Watch;

/// <summary>
/// One sample as a screen for a terminal: it redraws from the top, shows a full accept queue in red
/// and drops that rose since the last sample in yellow. ANSI escapes only: no dependency.
/// </summary>
internal static class LiveTableWriter
{
    private const string Home = "\u001b[H\u001b[2J";
    private const string Red = "\u001b[1;31m";
    private const string Yellow = "\u001b[33m";
    private const string Bold = "\u001b[1m";
    private const string Reset = "\u001b[0m";

    public static string Format(WatchSample sample)
    {
        var text = new StringBuilder(Home);
        text.Append(CultureInfo.InvariantCulture,
            $"{Bold}halfway watch{Reset}  {sample.Namespace}  {sample.Time.UtcDateTime:HH:mm:ss}Z  every {sample.Interval.TotalSeconds:0.0} s  (sample {sample.SampleDuration.TotalMilliseconds:0.0} ms)  Ctrl-C to stop\n\n");
        text.Append(CultureInfo.InvariantCulture, $"{Bold}{"LISTENER",-28} {"ACCEPT-Q",8} {"LIMIT",6} {TcpStateNames.Of(TcpState.SynRecv),8} {"RESENT",6} {"DROPS",9} {"DROPS/s",8}{Reset}\n");
        foreach (var l in sample.Listeners)
        {
            double perSecond = l.DropsDelta / Math.Max(sample.Interval.TotalSeconds, 1e-6);
            string row = string.Create(CultureInfo.InvariantCulture,
                $"{l.Address,-28} {l.AcceptQueue,8} {l.AcceptQueueLimit,6} {l.SynRecv,8} {l.SynRecvResending,6} {l.Drops,9} {perSecond,8:0.#}");
            text.Append(l.AcceptQueueFull ? Red + row + Reset : l.DropsDelta > 0 ? Yellow + row + Reset : row).Append('\n');
        }
        if (sample.Listeners.Count == 0)
            text.Append("(no listener").Append(sample.NotListening.Count > 0 ? " on " + string.Join(", ", sample.NotListening) : "").Append(")\n");
        else
            foreach (var missing in sample.NotListening)
                text.Append("(no listener on ").Append(missing).Append(")\n");
        if (!sample.SynRecvScanned && sample.Listeners.Count > 0)
            text.Append("(SYN-RECV not scanned this time: no drop, no full queue, no SYN-ACK re-sent since the last sample)\n");
        text.Append(CultureInfo.InvariantCulture, $"\n{Bold}{"COUNTER (namespace)",-28} {"VALUE",12} {"PER SECOND",10}{Reset}\n");
        foreach (var c in sample.Counters)
        {
            string row = string.Create(CultureInfo.InvariantCulture, $"{c.ShortName,-28} {c.Value,12} {c.PerSecond,10:0.#}");
            text.Append(c.Delta > 0 ? Yellow + row + Reset : row).Append('\n');
        }
        // The table is redrawn: alerts that stay on are listed at every redraw, with this sample's start/change/end lines.
        var on = sample.ActiveAlerts.Where(a => a.State != "ended").ToList();
        if (on.Count > 0 || sample.Alerts.Count > 0)
            text.Append('\n');
        foreach (var alert in on)
        {
            text.Append(Red).Append(CultureInfo.InvariantCulture,
                $"ON {alert.Kind} {alert.Subject} for {WatchAlerts.Seconds(sample.Time - alert.Since)} (level {alert.Level}, total {alert.Total})").Append(Reset).Append('\n');
        }
        foreach (var alert in sample.Alerts)
            text.Append(Red).Append("! ").Append(alert).Append(Reset).Append('\n');
        return text.ToString();
    }
}
