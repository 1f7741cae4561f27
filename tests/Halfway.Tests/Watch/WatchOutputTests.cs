using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Halfway.Native;
using Halfway.Observe;
using Halfway.Observe.Watch;
using Halfway.Wire;

namespace Halfway.Tests.Watch;

public sealed class WatchOutputTests
{
    private static readonly IpEndpoint AnyOn8080 = IpEndpoint.From(new IPEndPoint(IPAddress.Any, 8080));
    private static readonly IpEndpoint V6On9000 = IpEndpoint.From(new IPEndPoint(IPAddress.IPv6Any, 9000));

    internal static WatchSample Sample(long queue = 5, long drops = 120, long dropsDelta = 20, int resending = 14, int synRecv = 14) => new(
        new DateTimeOffset(2026, 11, 23, 21, 0, 0, 250, TimeSpan.Zero),
        TimeSpan.FromSeconds(1),
        "net:[4026532000]",
        [
            new ListenerSample(AnyOn8080, 1, queue, 4, synRecv, resending, drops, dropsDelta),
            new ListenerSample(V6On9000, 2, 0, 256, 0, 0, 0, 0),
        ],
        [
            new CounterSample("TcpExtListenOverflows", 130, 20, 20),
            new CounterSample("TcpExtListenDrops", 131, 21, 21),
            new CounterSample("TcpExtSyncookiesSent", 7, 0, 0),
        ],
        ["127.0.0.1:7000"],
        [],
        [],
        TimeSpan.FromMilliseconds(1.5));

    [Fact]
    public void Json_has_the_issue_field_names_and_values()
    {
        using var json = JsonDocument.Parse(JsonSampleWriter.Format(Sample()));
        var root = json.RootElement;
        Assert.Equal("2026-11-23T21:00:00.250Z", root.GetProperty("time").GetString());
        var listener = root.GetProperty("listeners")[0];
        Assert.Equal("0.0.0.0:8080", listener.GetProperty("address").GetString());
        Assert.Equal(5, listener.GetProperty("accept_queue").GetInt64());
        Assert.Equal(4, listener.GetProperty("accept_queue_limit").GetInt64());
        Assert.True(listener.GetProperty("accept_queue_full").GetBoolean());
        Assert.Equal(14, listener.GetProperty("syn_recv").GetInt32());
        Assert.Equal(120, listener.GetProperty("drops").GetInt64());
        Assert.Equal("[::]:9000", root.GetProperty("listeners")[1].GetProperty("address").GetString());
        var overflows = root.GetProperty("counters").GetProperty("ListenOverflows");
        Assert.Equal(130, overflows.GetProperty("value").GetInt64());
        Assert.Equal(20, overflows.GetProperty("delta").GetInt64());
        Assert.Equal("127.0.0.1:7000", root.GetProperty("not_listening")[0].GetString());
        Assert.DoesNotContain('\n', JsonSampleWriter.Format(Sample()));
    }

    [Fact]
    public void Prometheus_text_has_the_documented_names_and_labels()
    {
        string text = PrometheusExposition.Format(Sample());
        Assert.Contains("halfway_listener_accept_queue{address=\"0.0.0.0\",port=\"8080\"} 5\n", text);
        Assert.Contains("halfway_listener_accept_queue_limit{address=\"0.0.0.0\",port=\"8080\"} 4\n", text);
        Assert.Contains("halfway_listener_syn_recv{address=\"0.0.0.0\",port=\"8080\"} 14\n", text);
        Assert.Contains("halfway_listener_drops_total{address=\"0.0.0.0\",port=\"8080\"} 120\n", text);
        Assert.Contains("halfway_listener_accept_queue{address=\"::\",port=\"9000\"} 0\n", text);
        Assert.Contains("# TYPE halfway_listener_drops_total counter\n", text);
        Assert.Contains("halfway_tcpext_listenoverflows_total 130\n", text);
        Assert.Contains("# TYPE halfway_tcpext_listenoverflows_total counter\n", text);
        Assert.Contains("halfway_tcpext_syncookiessent_total 7\n", text);
        Assert.Contains("halfway_sample_timestamp_seconds 1795467600.250\n", text);
    }

    [Fact]
    public void Prometheus_text_passes_promtool()
    {
        Assert.True(File.Exists("/usr/bin/promtool"), "promtool is missing: apt-get install prometheus");
        var (exitCode, output) = Promtool.CheckMetrics(PrometheusExposition.Format(Sample()));
        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}): {output}");
    }

    [Fact]
    public void Promtool_check_can_fail()
    {
        var (exitCode, _) = Promtool.CheckMetrics("halfway_listener_drops_total{address=\"0.0.0.0\"} 1\n");
        Assert.NotEqual(0, exitCode);
    }

    [Fact]
    public void Plain_lines_name_the_listener_its_queue_and_the_counters()
    {
        string text = PlainSampleWriter.Format(Sample());
        Assert.Contains("listener 0.0.0.0:8080 accept_queue=5/4 FULL syn_recv=14 resending=14 drops=120 (+20)", text);
        Assert.Contains("no listener on 127.0.0.1:7000", text);
        Assert.Contains("ListenOverflows=130 (+20)", text);
        Assert.DoesNotContain("\u001b", text);
    }

    [Fact]
    public void The_live_table_highlights_a_full_queue()
    {
        string text = LiveTableWriter.Format(Sample());
        Assert.Contains("\u001b[1;31m0.0.0.0:8080", text);
        Assert.DoesNotContain("\u001b[1;31m[::]:9000", text);
    }

    [Fact]
    public void The_live_table_lists_alerts_that_stay_on_at_every_redraw()
    {
        var alerts = new WatchAlerts();
        var first = Sample();
        alerts.Evaluate(first);
        var later = Sample() with { Time = first.Time.AddSeconds(1) };
        var lines = alerts.Evaluate(later);
        Assert.DoesNotContain(lines, l => l.Contains("0.0.0.0:8080", StringComparison.Ordinal));
        string text = LiveTableWriter.Format(later with { Alerts = lines, ActiveAlerts = alerts.Current });
        Assert.Contains("ON accept_queue_overflow 0.0.0.0:8080 for 2.0 s (level 20, total 40)", text);
    }

    [Fact]
    public void A_full_queue_alert_starts_once_changes_when_the_drop_rate_doubles_and_ends_with_its_duration_and_total()
    {
        var alerts = new WatchAlerts();
        var first = Sample(drops: 100, dropsDelta: 10);
        Assert.Equal("started: accept queue of 0.0.0.0:8080 full (5 of 4); 10 drops in 1.0 s; SYN-RECV requests re-sending SYN-ACKs: 14 (final ACKs being ignored)",
            Assert.Single(OnListener(alerts.Evaluate(first))));
        // Same state a second later: nothing printed, the alert stays on.
        Assert.Empty(OnListener(alerts.Evaluate(Sample(drops: 112, dropsDelta: 12) with { Time = first.Time.AddSeconds(1) })));
        Assert.Equal("ongoing", Assert.Single(alerts.Current, a => a.Subject == "0.0.0.0:8080").State);
        var faster = Sample(drops: 232, dropsDelta: 120) with { Time = first.Time.AddSeconds(2) };
        Assert.Equal("changed: accept queue of 0.0.0.0:8080 full (5 of 4) for 3.0 s; now 120 drops in 1.0 s (was 10/s); 142 drops since it started; SYN-RECV requests re-sending SYN-ACKs: 14 (final ACKs being ignored)",
            Assert.Single(OnListener(alerts.Evaluate(faster))));
        var drained = Sample(queue: 0, drops: 232, dropsDelta: 0, resending: 0) with { Time = first.Time.AddSeconds(3) };
        Assert.Equal("ended: accept queue overflow at 0.0.0.0:8080 after 4.0 s; 142 drops in all; at most 14 requests re-sending SYN-ACKs",
            Assert.Single(OnListener(alerts.Evaluate(drained))));
        Assert.Equal("ended", Assert.Single(alerts.Current, a => a.Subject == "0.0.0.0:8080").State);
        Assert.Empty(OnListener(alerts.Evaluate(drained with { Time = first.Time.AddSeconds(4) })));
        Assert.DoesNotContain(alerts.Current, a => a.Subject == "0.0.0.0:8080");
    }

    [Fact]
    public void Requests_re_sending_while_the_queue_has_room_are_lost_final_acks_not_an_overflow()
    {
        var alerts = new WatchAlerts();
        var lines = OnListener(alerts.Evaluate(Sample(queue: 0, drops: 0, dropsDelta: 0, resending: 9, synRecv: 9)));
        Assert.Equal("started: final ACKs lost between client and listener 0.0.0.0:8080: 9 SYN-RECV requests waiting, 9 re-sending SYN-ACKs while the accept queue has room (0 of 4); the clients' ACKs do not arrive (a firewall, conntrack, a middlebox or packet loss; or SYNs from clients that never answer)",
            Assert.Single(lines));
        Assert.Equal(WatchAlerts.FinalAcksLost, Assert.Single(alerts.Current, a => a.Subject == "0.0.0.0:8080").Kind);
        Assert.Empty(OnListener(alerts.Evaluate(Sample(queue: 0, drops: 0, dropsDelta: 0, resending: 10, synRecv: 10))));
        Assert.StartsWith("changed: final ACKs lost between client and listener 0.0.0.0:8080: now 20 requests waiting (was 9), 20 re-sending SYN-ACKs",
            Assert.Single(OnListener(alerts.Evaluate(Sample(queue: 0, drops: 0, dropsDelta: 0, resending: 20, synRecv: 20)))));
        var start = Sample().Time;
        Assert.Equal("ended: final ACKs lost at 0.0.0.0:8080 after 4.0 s; at most 20 requests waiting",
            Assert.Single(OnListener(alerts.Evaluate(Sample(queue: 0, drops: 0, dropsDelta: 0, resending: 0, synRecv: 0) with { Time = start.AddSeconds(3) }))));
    }

    /// <summary>The alert lines about the listener 0.0.0.0:8080 (the sample's counters raise their own).</summary>
    private static IEnumerable<string> OnListener(IEnumerable<string> lines) => lines.Where(l => l.Contains("0.0.0.0:8080", StringComparison.Ordinal));

    [Fact]
    public void Drops_without_a_full_queue_say_it_filled_between_samples()
    {
        var alerts = new WatchAlerts().Evaluate(Sample(queue: 1, drops: 5, dropsDelta: 5, resending: 0));
        Assert.Contains("started: listener 0.0.0.0:8080 dropped 5 in 1.0 s (accept queue 1 of 4 now: it filled between samples); 5 drops in 1.0 s; SYN-RECV requests: 14", alerts);
    }

    [Theory]
    [InlineData(10, 12, false)]
    [InlineData(10, 20, true)]
    [InlineData(10, 5, false)]
    [InlineData(1, 2, false)]
    [InlineData(0, 3, true)]
    public void A_change_is_material_when_it_at_least_doubles_by_at_least_three(long reported, long level, bool material) =>
        Assert.Equal(material, WatchAlerts.IsMaterial(reported, level));

    [Theory]
    [InlineData("127.0.0.1:2024", new[] { "0.0.0.0:2024" }, "0.0.0.0:2024")]
    [InlineData("127.0.0.1:2024", new[] { "0.0.0.0:2024", "127.0.0.1:2024" }, "127.0.0.1:2024")]
    [InlineData("127.0.0.1:2024", new[] { "[::]:2024" }, "[::]:2024")]
    [InlineData("[::1]:2024", new[] { "[::]:2024", "0.0.0.0:2024" }, "[::]:2024")]
    [InlineData("[::1]:2024", new[] { "0.0.0.0:2024" }, null)]
    [InlineData("127.0.0.1:2024", new[] { "10.0.0.1:2024", "0.0.0.0:2025" }, null)]
    public void An_address_target_routes_to_the_exact_listener_then_the_wildcard_as_the_kernel_does(string target, string[] listening, string? expected)
    {
        var set = listening.Select(l => { var (a, p) = WatchTarget.ParseAddressAndPort(l, "listener"); return IpEndpoint.From(new IPEndPoint(a!, p)); }).ToHashSet();
        Assert.Equal(expected, WatchTarget.Parse(target).RoutesTo(set)?.ToString());
    }

    [Theory]
    [InlineData("GET /metrics HTTP/1.1", "200 OK")]
    [InlineData("GET /metrics?x=1 HTTP/1.0", "200 OK")]
    [InlineData("GET /other HTTP/1.1", "404 Not Found")]
    [InlineData("POST /metrics HTTP/1.1", "405 Method Not Allowed")]
    [InlineData("garbage", "400 Bad Request")]
    public void The_http_responder_answers_only_get_metrics(string requestLine, string status) =>
        Assert.Equal(status, PrometheusEndpoint.Answer(requestLine, "x 1\n").Status);

    [Fact]
    public void Before_the_first_sample_a_scrape_gets_503() =>
        Assert.Equal("503 Service Unavailable", PrometheusEndpoint.Answer("GET /metrics HTTP/1.1", null).Status);

    [Fact]
    public void The_port_filter_bytecode_has_the_layout_the_kernel_audit_accepts()
    {
        var code = SockDiag.LocalPortFilter([8080, 443]);
        // [S_EQ yes=8 no=12][port 8080][JMP yes=4 no=12][S_EQ yes=8 no=12][port 443]
        Assert.Equal(20, code.Length);
        Assert.Equal(new byte[] { 11, 8, 12, 0, 0, 0, 0x90, 0x1f, 1, 4, 12, 0, 11, 8, 12, 0, 0, 0, 0xbb, 0x01 }, code);
    }

    [Fact]
    public void A_request_socket_belongs_to_the_exact_listener_then_the_wildcard_then_the_dual_stack_one()
    {
        var exact = IpEndpoint.From(new IPEndPoint(IPAddress.Parse("198.18.0.2"), 8080));
        var listeners = new Dictionary<IpEndpoint, ListenerSample>
        {
            [AnyOn8080] = new(AnyOn8080, 1, 0, 4, 0, 0, 0, 0),
        };
        Assert.Equal(AnyOn8080, ListenerTable.OwnerOf(exact, listeners));
        listeners[exact] = new(exact, 1, 0, 4, 0, 0, 0, 0);
        Assert.Equal(exact, ListenerTable.OwnerOf(exact, listeners));
        var dual = IpEndpoint.From(new IPEndPoint(IPAddress.IPv6Any, 9000));
        var v4On9000 = IpEndpoint.From(new IPEndPoint(IPAddress.Loopback, 9000));
        Assert.Equal(dual, ListenerTable.OwnerOf(v4On9000, new Dictionary<IpEndpoint, ListenerSample> { [dual] = new(dual, 1, 0, 4, 0, 0, 0, 0) }));
        Assert.Null(ListenerTable.OwnerOf(v4On9000, listeners));
    }
}

/// <summary>Runs `promtool check metrics` on an exposition (Debian's prometheus package).</summary>
internal static class Promtool
{
    public static (int ExitCode, string Output) CheckMetrics(string exposition)
    {
        var start = new ProcessStartInfo("/usr/bin/promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        process.StandardInput.Write(exposition);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            process.Kill();
            throw new TimeoutException("promtool did not finish within 20 s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
