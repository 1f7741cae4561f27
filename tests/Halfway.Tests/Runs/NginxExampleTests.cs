using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Halfway.Observe;
using Halfway.Runs;
using Halfway.Tests.Packaging;
using Halfway.Traffic;
using static Halfway.Tests.Runs.RunAssertions;

namespace Halfway.Tests.Runs;

/// <summary>
/// nginx in the lab (examples/nginx), on the real kernel: what halfway says of each connection agrees with nginx's own
/// access log, which names each request's client port and, through $connection_time, when nginx accepted it.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class NginxExampleTests
{
    private static string Example(string name) => Path.Combine(Tool.RepositoryRoot(), "examples", "nginx", name);

    private sealed record Logged(int Port, double AcceptedAtMs);

    /// <summary>nginx's access log lines (examples/nginx/nginx.sh's format), with nginx's accept on the run's clock.</summary>
    private static Dictionary<int, Logged> AccessLog(ScenarioRun run, out string text)
    {
        var program = Assert.Single(run.Programs);
        text = Encoding.UTF8.GetString(program.Stdout);
        long startMs = run.StartedAt.ToUnixTimeMilliseconds();
        var logged = new Dictionary<int, Logged>();
        foreach (Match m in Regex.Matches(text, @"^port=([0-9]+) connection=[0-9]+ status=([0-9]+) msec=([0-9.]+) connection_time=([0-9.]+) ", RegexOptions.Multiline))
        {
            int port = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            double msec = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) * 1000;
            double held = double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture) * 1000;
            Assert.True(logged.TryAdd(port, new Logged(port, msec - held - startMs)), $"port {port} logged twice");
        }
        return logged;
    }

    [LabFact]
    public async Task Nginx_with_a_small_backlog_under_a_burst_strands_clients_and_its_access_log_agrees_with_every_fate_and_accept()
    {
        var run = await RunScenarioFileAsync(Example("burst.yaml"));
        var analysis = ScenarioAnalysis.Analyze(run);
        var log = AccessLog(run, out string text);
        Assert.True(log.Count > 0, $"nginx logged no request: {text[..Math.Min(text.Length, 2000)]}");
        Assert.Equal(600, run.Connections.Count(c => c.Local is not null));
        Assert.True(run.Counters["server"].GetValueOrDefault("TcpExtListenOverflows") > 0, "the accept queue never overflowed");
        Assert.Contains(analysis.Connections, c => c.HalfEstablished);
        Assert.Empty(analysis.Contradictions);
        // Where the server's kernel testifies, it names the same half-established connections as the wire and the table.
        if (analysis.Kernel is { } kernel)
            Assert.True(!kernel.Findings.Any(f => f.Contains("disagree", StringComparison.Ordinal)), string.Join("\n", kernel.Findings) + "\n"
                + string.Join("\n", run.Connections.Select(analysis.ForConnection).Where(v => v.HalfEstablished != v.Timeline.Any(t => t.Text.StartsWith("kernel dropped the client's ACK", StringComparison.Ordinal) && t.Text.Contains("listener", StringComparison.Ordinal))).Take(3)
                    .Select(v => v.Fate + ": " + string.Join("; ", v.Timeline.Select(t => $"{t.AtMicroseconds / 1000.0:0.0} {t.Column} {t.Text}")))));

        // The widest gap between two socket-table samples: how much later than accept() halfway can see it.
        var samples = run.ServerTableSampleTimes;
        double widestGapMs = samples.Zip(samples.Skip(1), (a, b) => (b - a) / 1000.0).DefaultIfEmpty(0).Max();
        var problems = new List<string>();
        foreach (var connection in run.Connections)
        {
            var verdict = analysis.ForConnection(connection);
            int port = connection.Local!.Value.Port;
            bool acceptedByFate = verdict.Fate is "accepted" or "accepted-late";
            if (acceptedByFate != log.TryGetValue(port, out var logged))
            {
                problems.Add($"{connection.Local}: fate {verdict.Fate}, in nginx's log: {logged is not null}");
                continue;
            }
            if (logged is null)
                continue;
            double inferred = verdict.Record!.AcceptedAtMicroseconds!.Value / 1000.0;
            // nginx stamps an accept with the time its event loop last read the clock (at or before accept() returned);
            // halfway with the first sample that showed the socket's inode (after it, stamped with the dump's start).
            if (inferred < logged.AcceptedAtMs - 10 || inferred > logged.AcceptedAtMs + widestGapMs + 10)
                problems.Add($"{connection.Local}: halfway's accept +{inferred:0.0} ms, nginx's +{logged.AcceptedAtMs:0.0} ms (samples at most {widestGapMs:0.0} ms apart)");
            // A half-established connection completes on a re-sent SYN-ACK's re-ACK (the first re-send comes 1 s after the
            // SYN-ACK) or on the request the client sends 1 s after connect() returned: nginx's own log must show it
            // accepted late, while halfway's accept time (checked above) agrees with the log's.
            if (verdict.HalfEstablished && connection.ConnectedAtMs is { } connected && logged.AcceptedAtMs < connected + 500)
                problems.Add($"{connection.Local}: half-established ({verdict.Kind}), yet nginx accepted it at +{logged.AcceptedAtMs:0.0} ms, {logged.AcceptedAtMs - connected:0} ms after connect() returned: "
                    + string.Join("; ", verdict.Timeline.Select(t => $"{t.AtMicroseconds / 1000.0:0.0} {t.Column} {t.Text}")));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)) + $"\n({problems.Count} in all)");
        var program = Assert.Single(run.Programs);
        Assert.Empty(ProcessGroup.Members(program.Pid));
    }

    [LabFact]
    public async Task Nginx_out_of_worker_connections_accepts_what_it_cannot_serve_and_resets_it_and_those_are_accepted_not_queued()
    {
        var run = await RunScenarioFileAsync(Example("worker-connections.yaml"));
        var analysis = ScenarioAnalysis.Analyze(run);
        var program = Assert.Single(run.Programs);
        string errors = Encoding.UTF8.GetString(program.Stderr);
        Assert.Contains("worker_connections are not enough", errors, StringComparison.Ordinal);
        var log = AccessLog(run, out string text);
        Assert.True(log.Count is > 0 and < 60, text);
        // Every connection was accepted by nginx: served, or accepted and reset because no worker connection was free
        // (its RST carries an ACK: a full socket's). None waited in the accept queue.
        var reset = run.Connections.Where(c => ServerReset(run, c.Local!.Value)).ToList();
        Assert.NotEmpty(reset);
        Assert.All(run.Connections, c => Assert.Contains(analysis.ForConnection(c).Fate, new[] { "accepted", "accepted-late" }));
        Assert.All(log.Keys, port => Assert.DoesNotContain(reset, c => c.Local!.Value.Port == port));
        Assert.Empty(analysis.Contradictions);
    }
}
