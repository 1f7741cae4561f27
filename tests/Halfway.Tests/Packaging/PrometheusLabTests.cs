using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Halfway.Lab;
using Halfway.Tests.Watch;

namespace Halfway.Tests.Packaging;

/// <summary>
/// A real Prometheus (Debian's /usr/bin/prometheus) on loopback, with a generated config and a temporary
/// store, scrapes two `watch --prometheus` instances, one watching a full listener and one an idle one,
/// and evaluates packaging/halfway-rules.yml. Only the rules' `for:` durations are shortened (to 2 s) in
/// the copy it loads; the expressions are the shipped ones.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class PrometheusLabTests
{
    [LabFact]
    public async Task Prometheus_scrapes_two_watches_fires_the_overflow_rule_for_the_full_listener_only_and_every_panel_has_data()
    {
        using var storm = await OverflowingListener.StartAsync("prom-full");
        using var idleHost = LabHost.Create("prom-idle");
        using var idleListener = idleHost.Run(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, OverflowingListener.Port));
            socket.Listen(4);
            return socket;
        });
        int fullPort = FreePort(), idlePort = FreePort(), prometheusPort = FreePort();
        string port = OverflowingListener.Port.ToString(CultureInfo.InvariantCulture);
        using var fullWatch = WatchCli.Start(["--netns", storm.Server.NamespacePath, port, "--json", "--prometheus", $"127.0.0.1:{fullPort}"]);
        using var idleWatch = WatchCli.Start(["--netns", idleHost.NamespacePath, port, "--json", "--prometheus", $"127.0.0.1:{idlePort}"]);

        string work = Directory.CreateTempSubdirectory("halfway-prometheus-").FullName;
        Process? prometheus = null;
        try
        {
            string rules = File.ReadAllText(Path.Combine(Tool.Packaging, "halfway-rules.yml"));
            File.WriteAllText(Path.Combine(work, "rules.yml"), ForDuration().Replace(rules, "for: 2s"));
            File.WriteAllText(Path.Combine(work, "prometheus.yml"), $"""
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - {Path.Combine(work, "rules.yml")}
                scrape_configs:
                  - job_name: halfway
                    static_configs:
                      - targets: ["127.0.0.1:{fullPort}", "127.0.0.1:{idlePort}"]
                """);
            var start = new ProcessStartInfo("/usr/bin/prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { $"--config.file={Path.Combine(work, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(work, "data")}", $"--web.listen-address=127.0.0.1:{prometheusPort}" })
                start.ArgumentList.Add(argument);
            prometheus = Process.Start(start)!;
            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            prometheus.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
            prometheus.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
            prometheus.BeginErrorReadLine();
            prometheus.BeginOutputReadLine();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}"), Timeout = TimeSpan.FromSeconds(5) };

            async Task<List<JsonElement>> Query(string expression)
            {
                try
                {
                    using var response = await http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(expression));
                    if (!response.IsSuccessStatusCode)
                        return [];
                    var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    return json.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => e.Clone()).ToList();
                }
                catch (HttpRequestException)
                {
                    return []; // not listening yet
                }
            }
            async Task<List<JsonElement>> Until(string expression, Func<List<JsonElement>, bool> done, TimeSpan limit)
            {
                var deadline = DateTime.UtcNow + limit;
                var result = await Query(expression);
                while (!done(result) && DateTime.UtcNow < deadline && !prometheus.HasExited)
                {
                    await Task.Delay(500);
                    result = await Query(expression);
                }
                return result;
            }
            static string Instance(JsonElement e) => e.GetProperty("metric").GetProperty("instance").GetString()!;

            var queues = await Until("halfway_listener_accept_queue", r => r.Count == 2, TimeSpan.FromSeconds(60));
            Assert.True(queues.Count == 2, $"halfway_listener_accept_queue for {queues.Count} targets; prometheus: {string.Join("\n", log.TakeLast(20))}\nwatch: {fullWatch.Errors} {idleWatch.Errors}");
            Assert.Equal(new[] { $"127.0.0.1:{fullPort}", $"127.0.0.1:{idlePort}" }.Order(), queues.Select(Instance).Order());

            var firing = await Until("ALERTS{alertname=\"HalfwayAcceptQueueFull\",alertstate=\"firing\"}", r => r.Count > 0, TimeSpan.FromSeconds(60));
            Assert.Equal($"127.0.0.1:{fullPort}", Instance(Assert.Single(firing)));
            // Still only the full one a few evaluations later.
            await Task.Delay(3000);
            Assert.Equal($"127.0.0.1:{fullPort}", Instance(Assert.Single(await Query("ALERTS{alertname=\"HalfwayAcceptQueueFull\"}"))));

            using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Tool.Packaging, "halfway-dashboard.json")));
            foreach (var expression in PackagingTests.Expressions(dashboard))
            {
                var result = await Until(expression, r => r.Count > 0, TimeSpan.FromSeconds(30));
                Assert.True(result.Count > 0, $"the dashboard expression '{expression}' returned no data");
            }
        }
        finally
        {
            if (prometheus is not null)
            {
                if (!prometheus.HasExited)
                {
                    prometheus.Kill();
                    prometheus.WaitForExit(TimeSpan.FromSeconds(10));
                }
                prometheus.Dispose();
            }
            Directory.Delete(work, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"for: \d+[smh]")]
    private static partial Regex ForDuration();
}
