using System.Diagnostics;

namespace Halfway.Traffic;

/// <summary>The processes of one process group, read from /proc: what is still running after a program was told to end.</summary>
internal static class ProcessGroup
{
    /// <summary>A process's group id (from /proc/PID/stat); null when it is gone.</summary>
    public static int? GroupOf(int pid)
    {
        var fields = StatFields(pid);
        return fields is { Length: > 4 } && int.TryParse(fields[4], out int group) ? group : null;
    }

    /// <summary>The live (not zombie) processes whose group is <paramref name="group"/>.</summary>
    public static List<int> Members(int group)
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
                continue;
            var fields = StatFields(pid);
            if (fields is { Length: > 4 } && fields[2] is not ("Z" or "X") && int.TryParse(fields[4], out int g) && g == group)
                members.Add(pid);
        }
        return members;
    }

    /// <summary>True when a process runs (exists and is not a zombie).</summary>
    public static bool IsRunning(int pid) => StatFields(pid) is { Length: > 2 } f && f[2] is not ("Z" or "X");

    /// <summary>Polls until the group has no live member or <paramref name="timeout"/> passes; true when it is empty.</summary>
    public static bool WaitEmpty(int group, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Members(group).Count == 0)
                return true;
            if (clock.Elapsed >= timeout)
                return false;
            Thread.Sleep(20);
        }
    }

    /// <summary>/proc/PID/stat split into fields, the command name (field 2, in parentheses, may hold spaces) as one.</summary>
    private static string[]? StatFields(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        int open = text.IndexOf('(');
        int close = text.LastIndexOf(')');
        if (open < 0 || close < open)
            return null;
        var rest = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return [text[..open].Trim(), text[(open + 1)..close], .. rest];
    }
}
