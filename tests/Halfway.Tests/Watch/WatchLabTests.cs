using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Halfway.Tests.Watch;

[Collection(LabCollection.Name)]
public sealed class WatchLabTests
{
    [LabFact]
    public async Task Once_json_shows_a_full_accept_queue_syn_recv_requests_rising_overflows_and_listener_drops()
    {
        using var storm = await OverflowingListener.StartAsync("watch-once");

        // From the test's own namespace: watch enters the lab server's namespace with --netns.
        var (exitCode, output, errors) = WatchCli.Run(
            ["--netns", storm.Server.NamespacePath, "--once", "--json", "--interval", "1", OverflowingListener.Port.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"watch exited with {exitCode}: {errors}");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        var listener = Assert.Single(json.RootElement.GetProperty("listeners").EnumerateArray());
        Assert.Equal("0.0.0.0:8080", listener.GetProperty("address").GetString());
        Assert.Equal(5, listener.GetProperty("accept_queue").GetInt64());
        Assert.Equal(4, listener.GetProperty("accept_queue_limit").GetInt64());
        Assert.True(listener.GetProperty("accept_queue_full").GetBoolean());
        Assert.InRange(listener.GetProperty("syn_recv").GetInt32(), 1, OverflowingListener.LostFinalAcks + 1);
        Assert.InRange(listener.GetProperty("syn_recv_resending").GetInt32(), 1, OverflowingListener.LostFinalAcks + 1);
        long drops = listener.GetProperty("drops").GetInt64();
        Assert.True(drops >= OverflowingListener.Storm, $"listener drops {drops}, expected at least the storm's {OverflowingListener.Storm} SYNs");

        var counters = json.RootElement.GetProperty("counters");
        var overflows = counters.GetProperty("ListenOverflows");
        Assert.True(overflows.GetProperty("value").GetInt64() >= OverflowingListener.Storm);
        // Rising: the storm's clients re-send their SYNs every second into the full queue.
        Assert.True(overflows.GetProperty("delta").GetInt64() > 0, $"ListenOverflows did not rise during the interval: {line}");
        Assert.True(counters.GetProperty("ListenDrops").GetProperty("value").GetInt64() >= overflows.GetProperty("value").GetInt64());
        // Every ListenDrops increment also counts on the listener's own sk_drops (the only listener here);
        // sk_drops also counts packets the socket discarded for other reasons, so it can be higher.
        Assert.True(drops >= counters.GetProperty("ListenDrops").GetProperty("value").GetInt64(), $"listener drops {drops} below ListenDrops: {line}");

        var alert = Assert.Single(json.RootElement.GetProperty("alerts").EnumerateArray(), a => a.GetString()!.StartsWith("started: accept queue of 0.0.0.0:8080 full (5 of 4)"));
        Assert.Contains("final ACKs being ignored", alert.GetString());
        // A full queue explains the ignored final ACKs: an overflow, not lost ACKs.
        var kinds = json.RootElement.GetProperty("active_alerts").EnumerateArray().Select(a => a.GetProperty("kind").GetString()).ToList();
        Assert.Contains("accept_queue_overflow", kinds);
        Assert.DoesNotContain("final_acks_lost", kinds);
        Assert.DoesNotContain(json.RootElement.GetProperty("alerts").EnumerateArray(), a => a.GetString()!.Contains("final ACKs lost"));

        // ss in the same namespace sees the same queue and limit.
        var ss = Assert.Single(SocketTableTests.Ss(storm.Server, "-tlnmH"), l => l.Local == "0.0.0.0:8080");
        Assert.Equal(5u, ss.RecvQ);
        Assert.Equal(4u, ss.SendQueue);
        Assert.True(ss.Drops >= drops, $"ss shows d{ss.Drops} after watch saw {drops}");
    }

    [LabFact]
    public async Task A_prometheus_scrape_in_the_lab_returns_the_same_figures_as_the_json_and_passes_promtool()
    {
        using var storm = await OverflowingListener.StartAsync("watch-prom");
        const int metricsPort = 9464;
        using var cli = WatchCli.Start(
            [OverflowingListener.Port.ToString(CultureInfo.InvariantCulture), "--json", "--interval", "0.5", "--prometheus", $"127.0.0.1:{metricsPort}"],
            storm.Server);
        var samples = new Dictionary<string, JsonElement>();
        void TakeLines(TimeSpan wait)
        {
            while (cli.NextLine(wait) is { } line)
            {
                var root = JsonDocument.Parse(line).RootElement;
                samples[root.GetProperty("time").GetString()!] = root;
                wait = TimeSpan.Zero;
            }
        }
        TakeLines(TimeSpan.FromSeconds(20));
        Assert.True(samples.Count > 0, $"watch printed no sample within 20 s: {cli.Errors}");

        string body = Scrape(storm, metricsPort);
        var metrics = ParseExposition(body);
        double timestamp = metrics["halfway_sample_timestamp_seconds"];
        string time = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(timestamp * 1000)).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!samples.ContainsKey(time) && DateTime.UtcNow < deadline)
            TakeLines(TimeSpan.FromMilliseconds(200));
        Assert.True(samples.ContainsKey(time), $"no JSON sample at {time} (have {string.Join(", ", samples.Keys)})");

        var sample = samples[time];
        var listener = Assert.Single(sample.GetProperty("listeners").EnumerateArray());
        const string labels = "{address=\"0.0.0.0\",port=\"8080\"}";
        Assert.Equal(5, metrics["halfway_listener_accept_queue" + labels]);
        Assert.Equal(4, metrics["halfway_listener_accept_queue_limit" + labels]);
        Assert.Equal(listener.GetProperty("accept_queue").GetInt64(), metrics["halfway_listener_accept_queue" + labels]);
        Assert.Equal(listener.GetProperty("syn_recv").GetInt64(), metrics["halfway_listener_syn_recv" + labels]);
        Assert.True(metrics["halfway_listener_syn_recv" + labels] >= 1);
        Assert.Equal(listener.GetProperty("drops").GetInt64(), metrics["halfway_listener_drops_total" + labels]);
        Assert.True(metrics["halfway_listener_drops_total" + labels] >= OverflowingListener.Storm);
        Assert.Equal(sample.GetProperty("counters").GetProperty("ListenOverflows").GetProperty("value").GetInt64(),
            metrics["halfway_tcpext_listenoverflows_total"]);
        Assert.Equal(sample.GetProperty("counters").GetProperty("ListenDrops").GetProperty("value").GetInt64(),
            metrics["halfway_tcpext_listendrops_total"]);

        var (exitCode, promtool) = Promtool.CheckMetrics(body);
        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}): {promtool}\n{body}");
    }

    /// <summary>GET /metrics from a socket made inside the lab server: loopback of that namespace.</summary>
    internal static string Scrape(OverflowingListener storm, int port)
    {
        using var socket = storm.Server.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000, SendTimeout = 5000 };
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return s;
        });
        socket.Send(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        var response = new MemoryStream();
        var buffer = new byte[16384];
        int received;
        while ((received = socket.Receive(buffer)) > 0)
            response.Write(buffer, 0, received);
        string text = Encoding.UTF8.GetString(response.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", text);
        Assert.Contains("Content-Type: text/plain; version=0.0.4", text);
        return text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }

    internal static Dictionary<string, double> ParseExposition(string body) =>
        body.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#'))
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
