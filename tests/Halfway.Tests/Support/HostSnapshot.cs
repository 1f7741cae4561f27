using System.Diagnostics;
using System.Text;

namespace Halfway.Tests.Support;

/// <summary>The host namespace's network state, as text, to prove that a lab changed none of it.</summary>
public static class HostSnapshot
{
    private static readonly string[][] Commands =
    [
        ["ip", "-o", "link", "show"],
        ["ip", "-o", "addr", "show"],
        ["ip", "route", "show", "table", "all"],
        ["ip", "-6", "route", "show", "table", "all"],
        ["ip", "netns", "list"],
        ["tc", "qdisc", "show"],
        ["nft", "list", "ruleset"],
    ];

    public static string Take()
    {
        var text = new StringBuilder();
        foreach (var command in Commands)
            text.Append("$ ").AppendLine(string.Join(' ', command)).AppendLine(Run(command));
        foreach (var file in Directory.EnumerateFiles("/proc/sys/net/ipv4").Where(f => Path.GetFileName(f).StartsWith("tcp_", StringComparison.Ordinal) || f.EndsWith("ip_local_port_range", StringComparison.Ordinal)).Order())
            text.Append(file).Append(" = ").AppendLine(TryRead(file));
        foreach (var file in new[] { "/proc/sys/net/core/somaxconn", "/proc/sys/net/ipv6/conf/all/disable_ipv6" })
            text.Append(file).Append(" = ").AppendLine(TryRead(file));
        return text.ToString();
    }

    private static string TryRead(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (IOException e)
        {
            return $"(unreadable: {e.Message})";
        }
        catch (UnauthorizedAccessException)
        {
            return "(write-only)";
        }
    }

    public static string Run(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return "(timed out)";
            }
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException($"{command[0]} is not installed; test.sh installs it");
            return $"({command[0]} not installed)";
        }
    }
}
