using System.Globalization;
using System.Text;

namespace Halfway.Observe.Watch;

/// <summary>One sample as plain lines for logs and pipes: one line per listener, one for the counters, one per alert.</summary>
internal static class PlainSampleWriter
{
    public static string Format(WatchSample sample)
    {
        var text = new StringBuilder();
        string time = sample.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (sample.Listeners.Count == 0)
            text.Append(time).Append(" no listener").Append(sample.NotListening.Count > 0 ? " on " + string.Join(", ", sample.NotListening) : "").Append('\n');
        foreach (var l in sample.Listeners)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{time} listener {l.Address} accept_queue={l.AcceptQueue}/{l.AcceptQueueLimit}{(l.AcceptQueueFull ? " FULL" : "")} syn_recv={l.SynRecv} resending={l.SynRecvResending}{(sample.SynRecvScanned ? "" : " (inferred, not scanned)")} drops={l.Drops} (+{l.DropsDelta})\n");
        }
        foreach (var (target, listener) in sample.Routes.Where(r => r.Target != r.Listener))
            text.Append(time).Append(" target ").Append(target).Append(" is taken by listener ").Append(listener).Append('\n');
        foreach (var missing in sample.NotListening.Where(_ => sample.Listeners.Count > 0))
            text.Append(time).Append(" no listener on ").Append(missing).Append('\n');
        text.Append(time).Append(" counters");
        foreach (var c in sample.Counters)
            text.Append(CultureInfo.InvariantCulture, $" {c.ShortName}={c.Value} (+{c.Delta})");
        text.Append('\n');
        foreach (var d in sample.HandshakeDrops.Where(d => d.Delta > 0))
        {
            text.Append(CultureInfo.InvariantCulture, $"{time} kernel dropped {d.Delta} packets for listener {d.Listener}: {d.Reason} (total {d.Total}); clients {string.Join(", ", d.Clients)}")
                .Append(d.MoreClients > 0 ? $" and {d.MoreClients} more" : "").Append('\n');
        }
        foreach (var alert in sample.Alerts)
            text.Append(time).Append(" ALERT ").Append(alert).Append('\n');
        return text.ToString();
    }
}
