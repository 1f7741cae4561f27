using System.Globalization;
using System.Text;

namespace Halfway.Observe.Watch;

/// <summary>
/// One sample in the Prometheus text exposition format (version 0.0.4). Listener metrics carry the
/// labels address (the IP, no brackets) and port; the namespace counters become
/// halfway_tcpext_&lt;lowercase name&gt;_total.
/// </summary>
internal static class PrometheusExposition
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string MetricName(CounterSample counter) => $"halfway_tcpext_{counter.ShortName.ToLowerInvariant()}_total";

    public static string Format(WatchSample sample)
    {
        var text = new StringBuilder();
        ListenerFamily(text, sample, "halfway_listener_accept_queue", "gauge",
            "Connections in the listener's accept queue, waiting for accept() (ss Recv-Q of a LISTEN socket).", l => l.AcceptQueue);
        ListenerFamily(text, sample, "halfway_listener_accept_queue_limit", "gauge",
            "The accept queue's limit, min(backlog, net.core.somaxconn); it is full above this (ss Send-Q of a LISTEN socket).", l => l.AcceptQueueLimit);
        ListenerFamily(text, sample, "halfway_listener_syn_recv", "gauge",
            "Request sockets in SYN-RECV for this listener (handshakes the server has not completed).", l => l.SynRecv);
        ListenerFamily(text, sample, "halfway_listener_syn_recv_resending", "gauge",
            "Request sockets in SYN-RECV that have re-sent their SYN-ACK at least once.", l => l.SynRecvResending);
        ListenerFamily(text, sample, "halfway_listener_sockets", "gauge",
            "Listening sockets bound to this address and port (more than 1 with SO_REUSEPORT).", l => l.Sockets);
        ListenerFamily(text, sample, "halfway_listener_drops_total", "counter",
            "Packets the listening socket dropped (its skmem drop count, ss -tm d): SYNs and final ACKs refused by a full queue, and more.", l => l.Drops);
        Header(text, "halfway_listener_handshake_drops_total", "counter",
            "Packets the listener's kernel dropped, by the kernel's own drop reason (skb:kfree_skb with the listener as rx_sk), since watch started; e.g. TCP_LISTEN_OVERFLOW: a final ACK met a full accept queue.");
        foreach (var d in sample.HandshakeDrops)
        {
            text.Append("halfway_listener_handshake_drops_total{listener=\"").Append(Escape(d.Listener)).Append("\",reason=\"").Append(Escape(d.Reason))
                .Append("\"} ").Append(d.Total.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Header(text, "halfway_kernel_witness_up", "gauge", "1 when the kernel witness (BPF tracepoints) runs, 0 when it is off (see watch's first line for why).");
        text.Append("halfway_kernel_witness_up ").Append(sample.KernelWitness == "on" ? '1' : '0').Append('\n');
        Header(text, "halfway_kernel_witness_events_lost_total", "counter", "Kernel witness events its ring buffer had no room for: the drop counts are short by this many.");
        text.Append("halfway_kernel_witness_events_lost_total ").Append(sample.KernelEventsLost.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var counter in sample.Counters)
        {
            string name = MetricName(counter);
            Header(text, name, "counter", $"The namespace counter TcpExt {counter.ShortName} (/proc/net/netstat, nstat {counter.Name}).");
            text.Append(name).Append(' ').Append(counter.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Header(text, "halfway_sample_timestamp_seconds", "gauge", "When this sample was taken, in seconds since the Unix epoch.");
        text.Append(CultureInfo.InvariantCulture, $"halfway_sample_timestamp_seconds {sample.Time.ToUnixTimeMilliseconds() / 1000.0:0.000}\n");
        Header(text, "halfway_sample_syn_recv_scanned", "gauge", "1 when this sample walked the socket table for SYN-RECV requests, 0 when nothing hinted at them and the syn_recv figures are 0 by inference.");
        text.Append("halfway_sample_syn_recv_scanned ").Append(sample.SynRecvScanned ? '1' : '0').Append('\n');
        Header(text, "halfway_sample_duration_seconds", "gauge", "How long reading the socket table and the counters took.");
        text.Append(CultureInfo.InvariantCulture, $"halfway_sample_duration_seconds {sample.SampleDuration.TotalSeconds:0.000000}\n");
        return text.ToString();
    }

    private static void ListenerFamily(StringBuilder text, WatchSample sample, string name, string type, string help, Func<ListenerSample, long> value)
    {
        Header(text, name, type, help);
        foreach (var l in sample.Listeners)
        {
            text.Append(name)
                .Append("{address=\"").Append(Escape(l.Address.ToIPAddress().ToString()))
                .Append("\",port=\"").Append(l.Address.Port.ToString(CultureInfo.InvariantCulture))
                .Append("\"} ").Append(value(l).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n"))
            .Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    internal static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
