using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Halfway.Tests.Support;

namespace Halfway.Tests.Cli;

/// <summary>`halfway run` as a user runs it (the real program, the real kernel): folders never shared, Ctrl-C keeps what was seen.</summary>
[Collection(LabCollection.Name)]
public sealed class RunCommandLabTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("halfway-run-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Scenario(string name, string yaml)
    {
        string path = Path.Combine(_folder, $"{name}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [LabFact]
    public void Three_runs_of_one_scenario_started_together_get_three_folders_and_three_reports()
    {
        string yaml = Scenario("tiny", "name: tiny\nduration: 10s\ntopology: pair\nserver: { port: 8080, backlog: 5 }\nclients:\n  count: 3\n  steps: [connect, close]\n");
        string runs = Path.Combine(_folder, "runs");
        var starts = Enumerable.Range(0, 3).Select(_ => HalfwayProcess.StartInfo("run", yaml, "-o", runs, "--json", "-q")).ToList();
        var results = starts.AsParallel().WithDegreeOfParallelism(3).Select(s => HalfwayProcess.Run(s, TimeSpan.FromMinutes(2))).ToList();

        foreach (var (exitCode, _, stderr) in results)
            Assert.True(exitCode == 0, $"exit {exitCode}: {stderr}");
        var folders = results.Select(r => JsonDocument.Parse(r.Stdout).RootElement.GetProperty("run_folder").GetString()!).ToList();
        Assert.Equal(3, folders.Distinct().Count());
        Assert.Equal(folders.Order(), Directory.GetDirectories(runs).Order());
        foreach (var folder in folders)
        {
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
            Assert.Equal(folder, report.RootElement.GetProperty("run_folder").GetString());
            var scenario = report.RootElement.GetProperty("scenarios")[0];
            Assert.Equal(3, scenario.GetProperty("connections").GetArrayLength());
            Assert.False(report.RootElement.GetProperty("interrupted").GetBoolean());
            Assert.True(File.Exists(Path.Combine(folder, scenario.GetProperty("capture").GetString()!)));
        }
    }

    [LabFact]
    public void Sigint_mid_run_writes_a_report_marked_interrupted_and_a_capture_then_exits_130()
    {
        string yaml = Scenario("long-wait", "name: long-wait\nduration: 2min\ntopology: pair\nserver: { port: 8080, backlog: 5 }\nclients:\n  count: 4\n  steps: [connect, {wait: 100s}, close]\n");
        string runs = Path.Combine(_folder, "runs");
        // A shell that starts the tests in the background (`dotnet test &` in a script) leaves SIGINT ignored, and the
        // ignore is inherited: .NET then never sees the signal. Ctrl-C reaches a foreground halfway; this one gets its default back.
        var startInfo = HalfwayProcess.StartInfo("run", yaml, "-o", runs);
        startInfo.ArgumentList.Insert(0, startInfo.FileName);
        startInfo.ArgumentList.Insert(0, "--default-signal=INT");
        startInfo.FileName = "env";
        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        var errors = new BlockingCollection<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) errors.Add(e.Data); };
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            // The first progress line comes once the lab runs and the clients are started.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!(errors.TryTake(out var line, TimeSpan.FromSeconds(1)) && line.Contains("connected")))
                Assert.True(DateTime.UtcNow < deadline && !process.HasExited, $"no progress line within 60 s; exited: {process.HasExited}");
            Thread.Sleep(TimeSpan.FromSeconds(3));
            Signal(process.Id, "INT");
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), $"halfway did not end within 60 s of SIGINT; its stderr so far:\n{string.Join("\n", errors)}");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
        string stderr = string.Join("\n", errors);
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {stderr}");
        Assert.Contains("halfway: SIGINT: stopping the labs and writing what was observed so far", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Contains("INTERRUPTED at +", stdout.Result);

        string folder = Assert.Single(Directory.GetDirectories(runs));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        Assert.True(report.RootElement.GetProperty("interrupted").GetBoolean());
        Assert.Equal("SIGINT", report.RootElement.GetProperty("interrupted_by").GetString());
        var scenario = report.RootElement.GetProperty("scenarios")[0];
        Assert.True(scenario.GetProperty("interrupted").GetBoolean());
        Assert.False(scenario.GetProperty("reached_duration_bound").GetBoolean());
        double at = scenario.GetProperty("interrupted_at_ms").GetDouble();
        Assert.InRange(at, 1000, 90_000);
        Assert.True(scenario.GetProperty("duration_ms").GetDouble() >= at);
        var connections = scenario.GetProperty("connections").EnumerateArray().ToList();
        Assert.Equal(4, connections.Count);
        foreach (var connection in connections)
        {
            var steps = connection.GetProperty("steps").EnumerateArray().ToList();
            Assert.Equal("ok", steps[0].GetProperty("result").GetString());
            Assert.Equal("cancelled", steps[^1].GetProperty("result").GetString());
        }

        // The capture's name comes from the report: its format (and extension) is the capture writer's business.
        string capture = Path.Combine(folder, scenario.GetProperty("capture").GetString()!);
        Assert.True(new FileInfo(capture).Length > 0);
        if (File.Exists("/usr/bin/tshark"))
        {
            var start = new ProcessStartInfo("/usr/bin/tshark", ["-n", "-r", capture]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            var (exitCode, packets, problems) = HalfwayProcess.Run(start, TimeSpan.FromSeconds(60));
            Assert.True(exitCode == 0, $"tshark -r {capture}: exit {exitCode}: {problems}");
            int lines = packets.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.True(lines >= 4 * 3, $"tshark read {lines} packets; 4 handshakes are 12");
        }
    }

    [LabFact]
    public void A_kernel_setting_the_kernel_refuses_is_reported_at_its_file_and_line_before_any_lab()
    {
        string yaml = Scenario("badk", "name: badk\nserver: { port: 8080 }\nkernel:\n  server:\n    net.ipv4.tcp_synack_retries: 1\n    net.ipv4.tcp_no_such_thing: 3\nclients: { count: 1, steps: [connect] }\n");
        string runs = Path.Combine(_folder, "runs");
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "run", yaml, "-o", runs);
        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"halfway: {yaml}:6: kernel.server.net.ipv4.tcp_no_such_thing: ", line);
        Assert.False(Directory.Exists(runs), "a refused run leaves no folder behind");
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        Assert.True(kill.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, kill.ExitCode);
    }
}
