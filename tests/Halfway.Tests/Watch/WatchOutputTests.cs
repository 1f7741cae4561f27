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

    internal static WatchSample Sample(long queue = 5, long drops = 120, long dropsDelta = 20, int resending = 14) => new(
        new DateTimeOffset(2026, 11, 23, 21, 0, 0, 250, TimeSpan.Zero),
        TimeSpan.FromSeconds(1),
        "net:[4026532000]",
        [
            new ListenerSample(AnyOn8080, 1, queue, 4, 14, resending, drops, dropsDelta),
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
    public void A_full_queue_alert_says_for_how_long_how_many_drops_and_that_final_acks_are_ignored()
    {
        var alerts = new WatchAlerts();
        var first = Sample(drops: 100, dropsDelta: 0);
        Assert.Equal("accept queue of 0.0.0.0:8080 full (5 of 4) for 1.0 s; 0 drops; SYN-RECV requests re-sending SYN-ACKs: 14 (final ACKs being ignored)",
            Assert.Single(alerts.Evaluate(first), a => a.StartsWith("accept queue")));
        var later = Sample(drops: 220, dropsDelta: 120) with { Time = first.Time.AddSeconds(2) };
        Assert.Equal("accept queue of 0.0.0.0:8080 full (5 of 4) for 3.0 s; 120 drops; SYN-RECV requests re-sending SYN-ACKs: 14 (final ACKs being ignored)",
            Assert.Single(alerts.Evaluate(later), a => a.StartsWith("accept queue")));
        var drained = Sample(queue: 0, drops: 220, dropsDelta: 0) with { Time = first.Time.AddSeconds(3) };
        Assert.Contains(alerts.Evaluate(drained), a => a.StartsWith("accept queue of 0.0.0.0:8080 no longer full"));
    }

    [Fact]
    public void Drops_without_a_full_queue_say_it_filled_between_samples()
    {
        var alerts = new WatchAlerts().Evaluate(Sample(queue: 1, drops: 5, dropsDelta: 5));
        Assert.Contains("listener 0.0.0.0:8080 dropped 5 in 1.0 s (accept queue 1 of 4 now: it filled between samples)", alerts);
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
