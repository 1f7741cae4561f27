using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Halfway.Tests.Support;

namespace Halfway.Tests.Runs;

/// <summary>
/// `halfway run seed-faithful` (kernel defaults, the seed's own waits: about 10 minutes) must answer the seed from its own
/// data, and a connection quiet for longer than a capture file's idle timeout (300 s) must keep one record. Both run in
/// one process, concurrently, so the suite pays the faithful run's time once.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class FaithfulSeedTests
{
    /// <summary>Longer than the capture engine's idle timeout (300 s): a silence the run's own knowledge must bridge.</summary>
    private const string IdlePastCaptureTimeout = """
        name: idle-past-capture-timeout
        description: connect, stay quiet for 310 s (past a capture's 300 s idle timeout), then send and receive
        duration: 7min
        link: { delay: 5ms }
        server: { port: 8080, backlog: 2, accept: never }
        clients:
          count: 10
          steps:
            - connect: { timeout: 10s }
            - wait: 310s
            - send: Ping
            - receive: { timeout: 3s }
            - close
        """;

    [LabFact]
    public void The_faithful_seed_run_answers_the_seed_from_its_own_data()
    {
        if (Environment.GetEnvironmentVariable("HALFWAY_SKIP_FAITHFUL") == "1" && Environment.GetEnvironmentVariable("CI") != "true")
            return; // a developer's shortcut; CI always runs it
        string folder = Path.Combine(Path.GetTempPath(), $"halfway-faithful-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string idle = Path.Combine(folder, "idle.yaml");
            File.WriteAllText(idle, IdlePastCaptureTimeout);
            var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromMinutes(14), "run", "seed-faithful", idle, "--json", "--quiet", "--output", folder);
            Assert.True(exitCode == 0, $"halfway run seed-faithful failed ({exitCode}): {stderr}");
            using var report = JsonDocument.Parse(stdout);
            var scenarios = report.RootElement.GetProperty("scenarios").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
            foreach (var name in new[] { "seed-wait-send-receive-faithful", "seed-long-wait-send-faithful", "seed-receive-only-faithful" })
                CheckSeedScenario(scenarios[name]);
            CheckIdleScenario(scenarios["idle-past-capture-timeout"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void CheckSeedScenario(JsonElement scenario)
    {
        string name = scenario.GetProperty("name").GetString()!;
        var connections = scenario.GetProperty("connections").EnumerateArray().Select(Connection.From).ToList();
        Assert.DoesNotContain(scenario.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("contradicts itself", StringComparison.Ordinal));
        foreach (var c in connections.Where(c => c.ConnectOk))
            Assert.True(c.Fate is not ("refused" or "unknown" or "syn-dropped" or "handshake-incomplete"), $"{name} {c.Client}: connect() returned ok, fate {c.Fate}");
        var half = connections.Where(c => c.HalfEstablished).ToList();
        Assert.True(half.Count > 0, $"{name}: no half-established connection: the run cannot answer the seed");
        Assert.All(half, c => Assert.True(c.ConnectOk || c.Results.Contains("reset"), $"{name} {c.Client}: half-established, yet connect() ended {c.Results.FirstOrDefault()}"));
        var answers = scenario.GetProperty("answers").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.DoesNotContain(answers, a => a.StartsWith("No connection of this run was half-established", StringComparison.Ordinal));

        // The answers' numbers are the per-connection records' numbers.
        var senders = half.Where(c => c.Steps.Contains("send")).ToList();
        if (Match(answers, SendAnswer()) is { } send)
        {
            Assert.Equal(senders.Count(c => c.ResultOf("send") == "ok"), send[0]);
            Assert.Equal(senders.Count, send[1]);
            Assert.Equal(half.Count, send[2]);
        }
        else
            Assert.Contains(answers, a => a.Contains($"This scenario never sends; {half.Count} connections were half-established", StringComparison.Ordinal));
        if (senders.Count > 0)
        {
            var receive = Match(answers, ReceiveAnswer()) ?? throw new Xunit.Sdk.XunitException($"{name}: no answer to the receive question");
            Assert.Equal(senders.Count, receive[0]);
            Assert.Equal(senders.Count(c => c.Results.Contains("reset")), receive[1]);
            Assert.Equal(senders.Count(c => c.ResultOf("receive") == "data"), receive[2]);
        }
        var nonSenders = half.Where(c => !c.Steps.Contains("send")).ToList();
        if (nonSenders.Count > 0)
        {
            var only = Match(answers, ReceiveOnlyAnswer()) ?? throw new Xunit.Sdk.XunitException($"{name}: no receive-only answer");
            Assert.Equal(nonSenders.Count, only[0]);
            Assert.Equal(nonSenders.Count(c => c.ResultOf("receive") == "timeout"), only[1]);
        }
    }

    private static void CheckIdleScenario(JsonElement scenario)
    {
        var connections = scenario.GetProperty("connections").EnumerateArray().Select(Connection.From).Where(c => c.ConnectOk).ToList();
        Assert.NotEmpty(connections);
        foreach (var c in connections)
        {
            Assert.True(c.Fate is not ("unknown" or "refused"), $"{c.Client}: quiet for 310 s, then fate {c.Fate}");
            // One record from the handshake to the data 310 s later.
            var wire = c.Timeline.Where(t => t.Where.StartsWith('w')).ToList(); // w> and w<: the wire, either way
            Assert.Contains(wire, t => t.AtMs < 60_000 && t.Text == "SYN");
            Assert.Contains(wire, t => t.AtMs > 300_000 && t.Text.StartsWith("data", StringComparison.Ordinal));
            // Whoever the server had not completed by then can only have been reset: a request socket expired after ~63 s,
            // and a syncookie is valid 60-120 s.
            if (c.HalfEstablished)
                Assert.True(c.Fate == "reset-on-data", $"{c.Client}: half-established, data after 310 s, fate {c.Fate}");
        }
    }

    private static int[]? Match(List<string> answers, Regex pattern)
    {
        foreach (var answer in answers)
        {
            var m = pattern.Match(answer);
            if (m.Success)
                return m.Groups.Values.Skip(1).Select(g => int.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray();
        }
        return null;
    }

    [GeneratedRegex(@"^Why does send\(\) succeed\? (\d+) of (\d+) sends on the (\d+) half-established connections")]
    private static partial Regex SendAnswer();

    [GeneratedRegex(@"^Why does receive\(\) fail only after a send\? Of (\d+) half-established connections that sent, (\d+) got ECONNRESET.* and (\d+) got the reply")]
    private static partial Regex ReceiveAnswer();

    [GeneratedRegex(@"^Receive only: (\d+) half-established connections never sent; (\d+) of their receive\(\) calls ended by timeout")]
    private static partial Regex ReceiveOnlyAnswer();

    private sealed record TimelineItem(double AtMs, string Where, string Text);

    private sealed record Connection(string? Client, string Fate, bool HalfEstablished, List<string> Steps, List<string> Results, List<TimelineItem> Timeline)
    {
        public bool ConnectOk => Results.Count > 0 && Results[0] == "ok";

        public string? ResultOf(string step) => Steps.IndexOf(step) is >= 0 and var i ? Results[i] : null;

        public static Connection From(JsonElement c) => new(
            c.GetProperty("client").GetString(),
            c.GetProperty("fate").GetString()!,
            c.GetProperty("half_established").GetBoolean(),
            c.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()!).ToList(),
            c.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("result").GetString()!).ToList(),
            c.GetProperty("timeline").EnumerateArray().Select(t => new TimelineItem(t[0].GetDouble(), t[1].GetString()!, t[2].GetString()!)).ToList());
    }
}
