using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Halfway.Cli.Commands;

namespace Halfway.Tests.Watch;

/// <summary>`halfway watch` with the kernel witness: handshake drops per listener and reason, from the kernel's own word.</summary>
[Collection(LabCollection.Name)]
public sealed class WatchWitnessLabTests
{
    [LabFact]
    public async Task Json_and_prometheus_name_the_listeners_final_ACK_drops_and_only_its_request_sockets_clients()
    {
        // The storm's lost-ACK requests re-send their SYN-ACK (1 s, 3 s, 7 s after they began); each re-ACK meets the full
        // queue. The storm's own SYNs are dropped too, but those get no reason from the kernel (it "consumes" them).
        using var storm = await OverflowingListener.StartAsync("watch-witness");
        using var cli = WatchCli.Start(["--json", "--interval", "1", "--prometheus", "127.0.0.1:9466"], storm.Server);
        JsonElement? withDrops = null;
        var clients = new HashSet<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline && cli.NextLine(TimeSpan.FromSeconds(3)) is { } line)
        {
            var root = JsonDocument.Parse(line).RootElement;
            Assert.True(root.GetProperty("kernel_witness").GetString() == "on", $"{root.GetProperty("kernel_witness")}: {cli.Errors}");
            Assert.Equal(0, root.GetProperty("kernel_events_lost").GetInt64());
            foreach (var entry in root.GetProperty("handshake_drops").EnumerateArray())
            {
                Assert.Equal("0.0.0.0:8080", entry.GetProperty("listener").GetString());
                Assert.Equal("TCP_LISTEN_OVERFLOW", entry.GetProperty("reason").GetString());
                var listed = entry.GetProperty("clients").EnumerateArray().Select(c => c.GetString()!).ToList();
                Assert.Equal(entry.GetProperty("delta").GetInt64(), listed.Count + entry.GetProperty("more_clients").GetInt64());
                clients.UnionWith(listed);
                withDrops = root;
            }
            if (withDrops is not null && clients.Count >= 2)
                break;
        }
        Assert.True(withDrops is not null, $"no handshake drop within 15 s: {cli.Errors}");
        // Only the request sockets whose final ACK the link lost can have an ACK dropped by the full queue.
        Assert.InRange(clients.Count, 1, OverflowingListener.LostFinalAcks);

        string body = WatchLabTests.Scrape(storm, 9466);
        var metrics = WatchLabTests.ParseExposition(body);
        double drops = metrics["halfway_listener_handshake_drops_total{listener=\"0.0.0.0:8080\",reason=\"TCP_LISTEN_OVERFLOW\"}"];
        long seen = withDrops.Value.GetProperty("handshake_drops").EnumerateArray().Single().GetProperty("total").GetInt64();
        Assert.True(drops >= seen, $"prometheus {drops} < json {seen}");
        // Every final-ACK drop is also a ListenOverflows increment (the counter also counts the storm's SYNs).
        Assert.True(drops <= metrics["halfway_tcpext_listenoverflows_total"], body);
        Assert.Equal(1, metrics["halfway_kernel_witness_up"]);
        var (exitCode, promtool) = Promtool.CheckMetrics(body);
        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}): {promtool}\n{body}");
    }

    [LabFact]
    public async Task Prometheus_final_ACK_drops_equal_the_ListenOverflows_counter_when_no_SYN_meets_the_full_queue()
    {
        // With no storm, only the lost-ACK requests' re-ACKs (1, 3, 7 s after their SYN) meet the full queue, so every
        // ListenOverflows increment is a final ACK the kernel dropped: the witness's count must equal the counter's
        // over the same interval. Both are read in one sample; measuring between quiet moments keeps a drop from
        // falling between the ring buffer's drain and the counter's read. Tolerance: none.
        using var lab = await OverflowingListener.StartAsync("watch-witness-exact", storm: 0);
        using var cli = WatchCli.Start(["--json", "--interval", "0.25", "--prometheus", "127.0.0.1:9467"], lab.Server);
        const string dropsKey = "halfway_listener_handshake_drops_total{listener=\"0.0.0.0:8080\",reason=\"TCP_LISTEN_OVERFLOW\"}";
        (double Drops, double Overflows) Totals()
        {
            var metrics = WatchLabTests.ParseExposition(WatchLabTests.Scrape(lab, 9467));
            Assert.True(metrics.GetValueOrDefault("halfway_kernel_witness_up") == 1, $"witness not up: {cli.Errors}");
            return (metrics.GetValueOrDefault(dropsKey), metrics["halfway_tcpext_listenoverflows_total"]);
        }
        async Task<(double Drops, double Overflows)> QuietAsync(Func<(double Drops, double Overflows), bool> accept, DateTime deadline)
        {
            var previous = (Drops: -1.0, Overflows: -1.0);
            while (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(700));
                var now = Totals();
                if (now == previous && accept(now))
                    return now;
                previous = now;
            }
            throw new TimeoutException($"no quiet moment before the deadline; last totals {previous}: {cli.Errors}");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(25);
        // The endpoint answers 503 until the first sample; a printed sample means it has one.
        Assert.True(cli.NextLine(TimeSpan.FromSeconds(10)) is not null, $"no sample within 10 s: {cli.Errors}");
        var first = await QuietAsync(_ => true, deadline);
        var second = await QuietAsync(t => t.Overflows > first.Overflows, deadline);
        double overflows = second.Overflows - first.Overflows, drops = second.Drops - first.Drops;
        Assert.InRange(overflows, 1, 2 * OverflowingListener.LostFinalAcks);
        Assert.True(drops == overflows, $"witness {drops} final-ACK drops against ListenOverflows +{overflows} between {first} and {second}");
    }

    [LabFact]
    public void Without_capabilities_or_when_turned_off_watch_says_so_in_one_line_and_samples_as_before()
    {
        // uid 0 but no capability at all (setpriv empties the bounding set): loading BPF is refused; reading the socket
        // table and counters of its own namespace is not.
        string cli = Path.Combine(Path.GetDirectoryName(typeof(WatchCommand).Assembly.Location)!, "Halfway.Cli.dll");
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--inh-caps=-all", "--bounding-set=-all", "--", Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", cli, "watch", "--once", "--json", "--interval", "0.2" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "watch did not exit within 30 s");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {errors.Result}");
        string line = Assert.Single(errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("halfway: kernel witness off: ", line);
        Assert.Contains("EPERM", line);
        var root = JsonDocument.Parse(output.Result).RootElement;
        Assert.StartsWith("off: ", root.GetProperty("kernel_witness").GetString());
        Assert.True(root.GetProperty("counters").EnumerateObject().Any());

        var (exit, plain, quiet) = WatchCli.Run(["--once", "--json", "--interval", "0.2", "--no-kernel-events"], TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, quiet);
        Assert.Equal("", quiet.Trim());
        Assert.Equal("off (--no-kernel-events)", JsonDocument.Parse(plain).RootElement.GetProperty("kernel_witness").GetString());
    }
}
