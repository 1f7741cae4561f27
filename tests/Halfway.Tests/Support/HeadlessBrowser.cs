using System.Diagnostics;
using System.Text.Json;

namespace Halfway.Tests.Support;

/// <summary>
/// Debian's Chromium in headless mode, run as a process: the DOM after the page's scripts ran, what the page wrote to
/// its console (errors included), and every network request the page itself made (read from Chromium's net log:
/// the browser's own background requests are not the page's and are left out).
/// </summary>
public static class HeadlessBrowser
{
    public sealed record PageLoad(string Dom, IReadOnlyList<string> ConsoleLines, IReadOnlyList<string> PageRequests);

    public static PageLoad Load(string file)
    {
        string chromium = Find() ?? throw new Xunit.Sdk.XunitException("chromium is not installed (test.sh installs it: apt-get install chromium)");
        string netLog = Path.Combine(Path.GetTempPath(), $"halfway-netlog-{Guid.NewGuid():N}.json");
        string profile = Path.Combine(Path.GetTempPath(), $"halfway-chromium-{Guid.NewGuid():N}");
        try
        {
            var start = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[]
            {
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--enable-logging=stderr", "--v=0", $"--user-data-dir={profile}", $"--log-net-log={netLog}",
                "--virtual-time-budget=5000", "--dump-dom", new Uri(Path.GetFullPath(file)).AbsoluteUri,
            })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException($"chromium did not finish loading {file} in 90 s");
            }
            string dom = stdout.Result;
            var console = stderr.Result.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
            return new PageLoad(dom, console, PageRequests(netLog));
        }
        finally
        {
            File.Delete(netLog);
            if (Directory.Exists(profile))
                Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>Requests whose network isolation key is the page's (file://): what the page asked for, not the browser.</summary>
    private static List<string> PageRequests(string netLog)
    {
        var requests = new List<string>();
        if (!File.Exists(netLog))
            throw new Xunit.Sdk.XunitException("chromium wrote no net log: cannot tell whether the page made requests");
        string text = File.ReadAllText(netLog).TrimEnd();
        // Chromium may end the log without closing it when it exits at once; close it so it parses.
        if (!text.EndsWith('}'))
            text = text.TrimEnd(',') + "]}";
        using var log = JsonDocument.Parse(text);
        foreach (var e in log.RootElement.GetProperty("events").EnumerateArray())
        {
            if (!e.TryGetProperty("params", out var p) || p.ValueKind != JsonValueKind.Object)
                continue;
            if (p.TryGetProperty("network_isolation_key", out var key) && key.GetString()!.StartsWith("file://", StringComparison.Ordinal)
                && p.TryGetProperty("url", out var url))
                requests.Add(url.GetString()!);
        }
        return requests;
    }

    private static string? Find() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
}
