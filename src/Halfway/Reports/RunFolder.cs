using System.Globalization;
using Halfway.Native;
using Halfway.Runs;

namespace Halfway.Reports;

/// <summary>
/// The run folder <c>ROOT/yyyyMMdd-HHmmss-NAME/</c> (<c>-2</c>, <c>-3</c>... when that exists): analyses the runs and
/// writes one capture per scenario, <c>report.json</c>, <c>connections.csv</c> and <c>report.html</c>, then returns the report and its JSON text.
/// </summary>
internal static class RunFolder
{
    /// <summary>Runs started in the same second, by as many processes, each get a folder; beyond this something is wrong.</summary>
    private const int MaxSuffix = 1000;

    /// <summary>
    /// Checks, before any lab starts, that run folders can be made under <paramref name="root"/>: it is a folder or can
    /// be created, and this process may write in it. A run must not last minutes and then fail to save.
    /// Returns true when it created the folder (<see cref="RemoveIfUnused"/> takes it away if the run does not start).
    /// </summary>
    public static bool CheckRoot(string root)
    {
        if (File.Exists(root))
            throw new HalfwayException($"--output {root}: is a file, not a folder; give a folder under which run folders are made (it is created if missing), e.g. -o halfway-runs");
        bool created = !Directory.Exists(root);
        try
        {
            Directory.CreateDirectory(root);
            // root passes permission checks, so only writing proves the folder takes files (read-only mounts, full disks).
            using var probe = new FileStream(Path.Combine(root, $".halfway-write-check-{Environment.ProcessId}"), FileMode.CreateNew,
                FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            probe.WriteByte(0);
            return created;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HalfwayException($"--output {root}: cannot create or write this folder ({e.Message.TrimEnd('.')}); give a folder this user may write, e.g. -o /tmp/halfway-runs");
        }
    }

    /// <summary>Removes a folder <see cref="CheckRoot"/> created when no run came to use it: a refused run leaves nothing behind.</summary>
    public static void RemoveIfUnused(string root)
    {
        try
        {
            if (Directory.Exists(root) && !Directory.EnumerateFileSystemEntries(root).Any())
                Directory.Delete(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind empty: harmless, and the error that stopped the run is the one to report.
        }
    }

    public static async Task<(RunReport Report, string Json)> WriteAsync(IReadOnlyList<ScenarioRun> runs, string root, IReadOnlyList<string> arguments,
        CancellationToken token, string? interruptedBy = null)
    {
        string name = runs.Count == 1 ? runs[0].Scenario.Name : string.Join("+", arguments.Select(Path.GetFileNameWithoutExtension).Select(Safe));
        if (name.Length > 60)
            name = name[..60];
        string folder = Create(root, $"{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{name}");
        try
        {
            var captures = runs.Select(run => (string?)RunCapture.Write(run, folder)).ToList();
            foreach (var run in runs)
            {
                foreach (var program in run.Programs)
                {
                    await File.WriteAllBytesAsync(Path.Combine(folder, ProgramOutputName(run, program, "stdout")), program.Stdout, token);
                    await File.WriteAllBytesAsync(Path.Combine(folder, ProgramOutputName(run, program, "stderr")), program.Stderr, token);
                }
            }
            var analyses = runs.Select(ScenarioAnalysis.Analyze).ToList();
            var report = ReportBuilder.Build(runs, analyses, folder, captures);
            if (runs.Any(r => r.Interrupted))
                report = report with { Interrupted = true, InterruptedBy = interruptedBy };
            string json = report.ToJson();
            await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), json, token);
            await File.WriteAllTextAsync(Path.Combine(folder, ConnectionsCsv.FileName), ConnectionsCsv.Render(report), token);
            await File.WriteAllTextAsync(Path.Combine(folder, Html.RunHtml.FileName), Html.RunHtml.Render(report), token);
            return (report, json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HalfwayException($"could not write the run folder {folder}: {e.Message.TrimEnd('.')}; free space or give another folder with -o, then run again");
        }
    }

    /// <summary>
    /// Makes a new folder <c>ROOT/BASE</c>, or <c>ROOT/BASE-2</c>, <c>-3</c>... if it exists. mkdir(2) fails when the path
    /// exists, so of two processes racing for one name exactly one gets it and the other moves on: no run overwrites another.
    /// </summary>
    public static string Create(string root, string baseName)
    {
        Directory.CreateDirectory(root);
        for (int suffix = 1; suffix <= MaxSuffix; suffix++)
        {
            string candidate = Path.Combine(root, suffix == 1 ? baseName : $"{baseName}-{suffix}");
            if (Libc.mkdir(candidate, 0b111_101_101 /* rwxr-xr-x */) == 0)
                return candidate;
            int errno = Libc.LastError;
            if (errno != Libc.EEXIST)
                throw new HalfwayException($"cannot create the run folder {candidate}: {Libc.Describe(errno)}; give a folder this user may write with -o");
        }
        throw new HalfwayException($"{MaxSuffix} run folders named {Path.Combine(root, baseName)}[-N] exist already; remove old runs or give another folder with -o");
    }

    /// <summary>Where a program's output is kept in the run folder: SCENARIO.ROLE.stdout.txt.</summary>
    public static string ProgramOutputName(ScenarioRun run, Traffic.ProgramProcess program, string stream) =>
        $"{run.Scenario.Name}.{program.Role}.{stream}.txt";

    /// <summary>A file name from the command line as part of a folder name: no separators, nothing hidden.</summary>
    private static string Safe(string? text)
    {
        var chars = (text ?? "").Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        return new string(chars).TrimStart('.');
    }
}
