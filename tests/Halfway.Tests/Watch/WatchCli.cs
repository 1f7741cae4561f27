using System.Collections.Concurrent;
using System.Diagnostics;
using Halfway.Cli.Commands;
using Halfway.Lab;

namespace Halfway.Tests.Watch;

/// <summary>Runs `halfway watch` as a real process (the built Halfway.Cli.dll), in the test's namespace or inside a lab host.</summary>
internal sealed class WatchCli : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private WatchCli(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _errors.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Errors => string.Join("\n", _errors);

    /// <summary>Starts `halfway watch ARGS`; inside <paramref name="host"/>'s namespace when given.</summary>
    public static WatchCli Start(IEnumerable<string> arguments, LabHost? host = null)
    {
        string cli = Path.Combine(Path.GetDirectoryName(typeof(WatchCommand).Assembly.Location)!, "Halfway.Cli.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        start.ArgumentList.Add("watch");
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var process = host is null ? Process.Start(start)! : host.StartProcess(start);
        return new WatchCli(process);
    }

    /// <summary>Runs to completion and returns its exit code and standard output.</summary>
    public static (int ExitCode, string Output, string Errors) Run(IEnumerable<string> arguments, TimeSpan timeout, LabHost? host = null)
    {
        using var cli = Start(arguments, host);
        if (!cli._process.WaitForExit(timeout))
            throw new TimeoutException($"halfway watch did not exit within {timeout.TotalSeconds} s");
        cli._process.WaitForExit(); // drains the redirected streams
        cli._lines.CompleteAdding();
        return (cli._process.ExitCode, string.Join("\n", cli._lines), cli.Errors);
    }

    /// <summary>The next line of standard output, or null when none came within <paramref name="timeout"/>.</summary>
    public string? NextLine(TimeSpan timeout) => _lines.TryTake(out var line, timeout) ? line : null;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }
}
