using System.Diagnostics;
using Halfway.Tests.Support;

namespace Halfway.Tests.Cli;

/// <summary>
/// The build users run: `./halfway` publishes the tool (natively when clang is installed, else precompiled) and runs
/// it. The other tests run the plain Debug build; this one checks that the published one says the same.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LauncherTests
{
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "halfway")) && File.Exists(Path.Combine(directory.FullName, "Halfway.slnx")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"no repository root above {AppContext.BaseDirectory}");
    }

    private static (int ExitCode, string Stdout, string Stderr) Launch(TimeSpan timeout, params string[] arguments)
    {
        var root = RepositoryRoot();
        var start = new ProcessStartInfo(Path.Combine(root, "halfway")) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return HalfwayProcess.Run(start, timeout);
    }

    [Fact]
    public void The_published_build_gives_the_same_reports_and_errors_as_the_debug_build()
    {
        var root = RepositoryRoot();
        string example = Path.Combine(root, "docs", "examples", "explain-example.pcap");
        // The first call may build the tool: a native build takes a minute or two on two cores.
        var published = Launch(TimeSpan.FromMinutes(8), "explain", "--json", example);
        var debug = HalfwayProcess.Run(TimeSpan.FromMinutes(1), "explain", "--json", example);
        Assert.Equal(debug.ExitCode, published.ExitCode);
        Assert.Equal(debug.Stdout, published.Stdout);

        var scenarios = Launch(TimeSpan.FromMinutes(1), "scenarios", "--json");
        Assert.Equal(HalfwayProcess.Run(TimeSpan.FromMinutes(1), "scenarios", "--json").Stdout, scenarios.Stdout);

        var missing = Launch(TimeSpan.FromMinutes(1), "explain", "/nonexistent.pcap");
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith("halfway: ", missing.Stderr);
        Assert.DoesNotContain("   at ", missing.Stderr);
    }
}
