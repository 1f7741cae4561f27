using System.Text;
using System.Text.Json;

namespace Halfway.Observe.Watch;

/// <summary>One sample as one line of JSON (newline-delimited JSON: one object per sample).</summary>
internal static class JsonSampleWriter
{
    public static string Format(WatchSample sample)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("time", sample.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("interval_seconds", Math.Round(sample.Interval.TotalSeconds, 3));
            json.WriteString("namespace", sample.Namespace);
            json.WriteNumber("sample_milliseconds", Math.Round(sample.SampleDuration.TotalMilliseconds, 3));
            json.WriteBoolean("syn_recv_scanned", sample.SynRecvScanned);
            json.WriteStartArray("listeners");
            foreach (var listener in sample.Listeners)
            {
                json.WriteStartObject();
                json.WriteString("address", listener.Address.ToString());
                json.WriteNumber("sockets", listener.Sockets);
                json.WriteNumber("accept_queue", listener.AcceptQueue);
                json.WriteNumber("accept_queue_limit", listener.AcceptQueueLimit);
                json.WriteBoolean("accept_queue_full", listener.AcceptQueueFull);
                json.WriteNumber("syn_recv", listener.SynRecv);
                json.WriteNumber("syn_recv_resending", listener.SynRecvResending);
                json.WriteNumber("drops", listener.Drops);
                json.WriteNumber("drops_delta", listener.DropsDelta);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("counters");
            foreach (var counter in sample.Counters)
            {
                json.WriteStartObject(counter.ShortName);
                json.WriteNumber("value", counter.Value);
                json.WriteNumber("delta", counter.Delta);
                json.WriteNumber("per_second", Math.Round(counter.PerSecond, 3));
                json.WriteEndObject();
            }
            json.WriteEndObject();
            WriteStrings(json, "not_listening", sample.NotListening);
            WriteStrings(json, "missing_counters", sample.MissingCounters);
            WriteStrings(json, "alerts", sample.Alerts);
            json.WriteStartArray("active_alerts");
            foreach (var alert in sample.ActiveAlerts)
            {
                json.WriteStartObject();
                json.WriteString("kind", alert.Kind);
                json.WriteString("subject", alert.Subject);
                json.WriteString("state", alert.State);
                json.WriteString("since", alert.Since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteNumber("seconds", Math.Round((sample.Time - alert.Since).TotalSeconds, 3));
                json.WriteNumber("level", alert.Level);
                json.WriteNumber("total", alert.Total);
                json.WriteNumber("peak", alert.Peak);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("kernel_witness", sample.KernelWitness);
            json.WriteNumber("kernel_events_lost", sample.KernelEventsLost);
            json.WriteStartArray("handshake_drops");
            foreach (var drops in sample.HandshakeDrops)
            {
                json.WriteStartObject();
                json.WriteString("listener", drops.Listener);
                json.WriteString("reason", drops.Reason);
                json.WriteNumber("total", drops.Total);
                json.WriteNumber("delta", drops.Delta);
                WriteStrings(json, "clients", drops.Clients);
                json.WriteNumber("more_clients", drops.MoreClients);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("targets");
            foreach (var (target, listener) in sample.Routes)
                json.WriteString(target, listener);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
