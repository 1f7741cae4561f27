using Halfway.Reports;
using Halfway.Runs;
using Halfway.Tests.Support;

namespace Halfway.Tests.Cli;

/// <summary>
/// Unusable input ends the real program with one line on stderr and exit 2, before any lab starts, and writes nothing.
/// None of these need root: they must fail before the privilege check.
/// </summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("halfway-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static void AssertOneLineError(int exitCode, string stdout, string stderr, string expected)
    {
        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("halfway: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Theory]
    [InlineData(new string[0], "no command given; commands: run, scenarios, explain, watch")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    [InlineData(new[] { "--frobnicate" }, "unknown option '--frobnicate'")]
    [InlineData(new[] { "run" }, "`halfway run --help`")]
    [InlineData(new[] { "run", "--bogus", "seed" }, "unknown option '--bogus'")]
    [InlineData(new[] { "explain", "--bogus", "x.pcap" }, "unknown option '--bogus'")]
    [InlineData(new[] { "watch", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "run", "no-such-scenario" }, "'no-such-scenario' is neither a built-in scenario nor a file")]
    [InlineData(new[] { "run", "missing.yaml" }, "scenario file 'missing.yaml' does not exist")]
    [InlineData(new[] { "run", "seed", "--output" }, "--output")]
    [InlineData(new[] { "explain" }, "`halfway explain --help`")]
    [InlineData(new[] { "scenarios", "--bogus" }, "'--bogus'")]
    [InlineData(new[] { "watch", "--interval" }, "--interval")]
    public void A_usage_error_is_one_line_and_exit_2(string[] arguments, string expected)
    {
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), arguments);
        AssertOneLineError(exitCode, stdout, stderr, expected);
    }

    [Fact]
    public void Output_on_a_file_is_refused_at_once_before_any_lab()
    {
        string file = Path.Combine(_folder, "a-file");
        File.WriteAllText(file, "mine");
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "run", "seed", "-o", file);
        AssertOneLineError(exitCode, stdout, stderr, $"--output {file}: is a file, not a folder");
        Assert.Equal("mine", File.ReadAllText(file));
        Assert.DoesNotContain("connected", stderr);
    }

    [Fact]
    public void Output_under_a_file_is_refused_before_any_lab()
    {
        string file = Path.Combine(_folder, "a-file");
        File.WriteAllText(file, "mine");
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "run", "seed", "-o", Path.Combine(file, "runs"));
        AssertOneLineError(exitCode, stdout, stderr, "cannot create or write this folder");
    }

    [Fact]
    public void A_traversal_name_is_refused_with_its_line_and_nothing_is_written()
    {
        // Run three folders deep, so that what the name would escape to stays inside this test's folder.
        string deep = Directory.CreateDirectory(Path.Combine(_folder, "a", "b", "c")).FullName;
        string yaml = Path.Combine(deep, "escape.yaml");
        File.WriteAllText(yaml, "server: { port: 8080 }\nname: x/../../../escaped\nclients: { count: 1, steps: [connect, close] }\n");
        var start = HalfwayProcess.StartInfo("run", yaml, "-o", "runs");
        start.WorkingDirectory = deep;
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(start, TimeSpan.FromSeconds(60));
        AssertOneLineError(exitCode, stdout, stderr, $"{yaml}:2: name: 'x/../../../escaped' is not a scenario name");
        Assert.Equal([yaml], Directory.GetFileSystemEntries(_folder, "*", SearchOption.AllDirectories).Where(File.Exists));
        Assert.False(Directory.Exists(Path.Combine(deep, "runs")));
    }

    [Fact]
    public void Run_folders_made_at_once_under_one_name_are_all_different()
    {
        // Eight makers racing for one name: mkdir lets exactly one have each folder.
        var folders = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8)
            .Select(_ => RunFolder.Create(_folder, "20260101-000000-same")).ToList();
        Assert.Equal(8, folders.Distinct().Count());
        Assert.Contains(Path.Combine(_folder, "20260101-000000-same"), folders);
        Assert.Contains(Path.Combine(_folder, "20260101-000000-same-8"), folders);
    }
}
