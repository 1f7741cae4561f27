using System.Diagnostics;

namespace Halfway.Tests.Support;

/// <summary>Starts the real `halfway` program (the CLI's dll beside the tests) as a child process.</summary>
public static class HalfwayProcess
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "Halfway.Cli.dll");

    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>Runs to the end (bounded) and returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] arguments) => Run(StartInfo(arguments), timeout);

    public static (int ExitCode, string Stdout, string Stderr) Run(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"halfway {string.Join(' ', start.ArgumentList)} did not end within {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
