using System.Diagnostics;
using System.Text;
using Halfway.Lab;
using Halfway.Native;
using Halfway.Scenarios;

namespace Halfway.Traffic;

/// <summary>
/// One run of the user's program inside a lab host. It is started on the host's namespace thread (a forked child
/// inherits that thread's network namespace, as every process the lab starts does) through util-linux `setsid`, which
/// execs it as the leader of a new session and process group: the group's id is its PID, so ending the group by that PID
/// ends its children too, and a terminal's Ctrl-C reaches halfway, not the program. Output is kept (bounded) for the run
/// folder. Children that make a session of their own (daemons) leave the group and are not followed.
/// </summary>
internal sealed class ProgramProcess : IDisposable
{
    /// <summary>Output kept per stream: the beginning of a program's output tells why it failed; the rest is cut.</summary>
    public const int MaxOutputBytes = 1 << 20;
    public static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(2);

    /// <summary>Groups of programs still running, by their leader's PID: what <see cref="KillAll"/> ends when halfway must quit at once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> Live = new();

    private readonly Process _process;
    private readonly LabClock _clock;
    private readonly BoundedOutput _stdout;
    private readonly BoundedOutput _stderr = new();
    private readonly Task _readers;
    private bool _stopping;

    private ProgramProcess(Process process, LabClock clock, string role, IReadOnlyList<string> command)
    {
        _process = process;
        _clock = clock;
        Role = role;
        Command = command;
        Pid = process.Id;
        StartedAtMs = Math.Round(clock.NowMilliseconds, 1);
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => ExitedAtMs ??= Math.Round(_clock.NowMilliseconds, 1);
        _stdout = new BoundedOutput(line =>
        {
            lock (_callLines)
            {
                if (_callLines.Count < MaxCallLines)
                    _callLines.Add(new StampedLine(Math.Round(_clock.NowMilliseconds, 3), line));
            }
        });
        _readers = Task.WhenAll(_stdout.ReadAsync(process.StandardOutput.BaseStream), _stderr.ReadAsync(process.StandardError.BaseStream));
    }

    /// <summary>A line of the program's stdout that starts with <see cref="CallLinePrefix"/>, with the moment halfway read it.</summary>
    public sealed record StampedLine(double AtMs, string Text);

    /// <summary>How a client program tells halfway what its calls returned (docs/programs.md): one line per call on stdout.</summary>
    public const string CallLinePrefix = "halfway-call ";
    private const int MaxCallLines = 200_000;
    private readonly List<StampedLine> _callLines = new();

    /// <summary>The program's call lines, stamped when read: at or after each call returned.</summary>
    public IReadOnlyList<StampedLine> CallLines
    {
        get
        {
            lock (_callLines)
                return _callLines.ToList();
        }
    }

    public string Role { get; }
    public IReadOnlyList<string> Command { get; }
    public int Pid { get; }
    public double StartedAtMs { get; }
    public double? ExitedAtMs { get; private set; }
    public bool HasExited => _process.HasExited;

    /// <summary>The program exited before halfway asked it to: its own exit, not ours.</summary>
    public bool ExitedByItself { get; private set; }

    /// <summary>How it ended: null while it runs; "exited", "SIGTERM" or "SIGKILL" (the latter two sent by halfway).</summary>
    public string? EndedBy { get; private set; }
    public int? ExitCode { get; private set; }
    public byte[] Stdout => _stdout.ToArray();
    public byte[] Stderr => _stderr.ToArray();
    public bool OutputCut => _stdout.Cut || _stderr.Cut;

    /// <summary>
    /// Where argv[0] is, as the kernel would find it: a path with '/' is taken relative to <paramref name="workDir"/>, a
    /// bare name is searched in PATH. Null and a one-line reason when there is no executable file.
    /// </summary>
    public static string? Resolve(ProgramSpec spec, string workDir, out string problem)
    {
        string name = spec.Command[0];
        problem = "";
        if (!Directory.Exists(workDir))
        {
            problem = $"the working folder {workDir} does not exist; fix workdir (relative to the scenario file's folder)";
            return null;
        }
        if (name.Contains('/'))
        {
            string path = Path.GetFullPath(name, workDir);
            if (IsExecutable(path))
                return path;
            problem = File.Exists(path)
                ? $"{path} is not executable; chmod +x it, or name its interpreter first, e.g. [python3, {name}]"
                : $"{path} does not exist (relative paths start from {workDir}); fix the path or set workdir";
            return null;
        }
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(folder, name);
            if (IsExecutable(path))
                return path;
        }
        problem = $"'{name}' is not an executable in PATH; install it, or give its full path";
        return null;
    }

    private static bool IsExecutable(string path) =>
        !OperatingSystem.IsWindows() && File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>The folder a program runs in: workdir relative to the scenario file's folder, or that folder (the current one for built-in scenarios).</summary>
    public static string WorkDirOf(ProgramSpec spec, string scenarioSource)
    {
        string baseFolder = File.Exists(scenarioSource) ? Path.GetDirectoryName(Path.GetFullPath(scenarioSource))! : Environment.CurrentDirectory;
        return spec.WorkDir is { } w ? Path.GetFullPath(w, baseFolder) : baseFolder;
    }

    public static ProgramProcess Start(LabHost host, ProgramSpec spec, string role, string scenarioSource, LabClock clock,
        IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        string workDir = WorkDirOf(spec, scenarioSource);
        string executable = Resolve(spec, workDir, out string problem) ?? throw new ScenarioException(scenarioSource, spec.Line, spec.Field, problem);
        var info = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = workDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(executable);
        foreach (var argument in spec.Command.Skip(1))
            info.ArgumentList.Add(argument);
        foreach (var (name, value) in spec.Environment)
            info.Environment[name] = value;
        foreach (var (name, value) in extraEnvironment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        Process process;
        try
        {
            process = host.StartProcess(info);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ScenarioException(scenarioSource, spec.Line, spec.Field, $"could not start it: {e.Message} (it runs through util-linux setsid: install util-linux)");
        }
        var program = new ProgramProcess(process, clock, role, spec.Command);
        Live[program.Pid] = true;
        // No input: a program that reads stdin sees its end instead of waiting on halfway's terminal.
        process.StandardInput.Close();
        program.AwaitOwnGroup();
        return program;
    }

    /// <summary>
    /// Waits (bounded) until setsid has made the program a group leader: until then a signal to the group by its PID
    /// would reach nothing, and a child forked before that would not be in the group.
    /// </summary>
    private void AwaitOwnGroup()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(2) && !_process.HasExited)
        {
            if (ProcessGroup.GroupOf(Pid) == Pid)
                return;
            Thread.Sleep(1);
        }
    }

    /// <summary>Stops every process of the group where it stands (SIGSTOP), so that a last look at the kernel's state is not raced by it.</summary>
    public void Freeze()
    {
        if (!_process.HasExited)
            Libc.kill(-Pid, Libc.SIGSTOP);
    }

    /// <summary>
    /// Ends the program and every process left in its group: SIGTERM, then SIGKILL after <see cref="TermGrace"/>.
    /// Bounded: returns within about TermGrace + 3 s.
    /// </summary>
    public void Stop()
    {
        if (_stopping)
            return;
        _stopping = true;
        if (_process.HasExited)
        {
            ExitedByItself = true;
            EndedBy = "exited";
        }
        else
        {
            EndedBy = "SIGTERM";
            Libc.kill(-Pid, Libc.SIGTERM);
            Libc.kill(-Pid, Libc.SIGCONT);
        }
        // Whether it exited by itself or not, what it left in its group is ended too.
        if (!ProcessGroup.WaitEmpty(Pid, _process.HasExited && ProcessGroup.Members(Pid).Count == 0 ? TimeSpan.Zero : TermGrace))
        {
            if (!_process.HasExited)
                EndedBy = "SIGKILL";
            Libc.kill(-Pid, Libc.SIGKILL);
            ProcessGroup.WaitEmpty(Pid, TimeSpan.FromSeconds(2));
        }
        if (_process.WaitForExit(TimeSpan.FromSeconds(1)))
            ExitCode = _process.ExitCode;
        _readers.Wait(TimeSpan.FromSeconds(1));
        Live.TryRemove(Pid, out _);
    }

    /// <summary>SIGKILL to every program group still running: for a halfway that quits at once (a second Ctrl-C) and leaves no program behind.</summary>
    public static void KillAll()
    {
        foreach (int pid in Live.Keys)
            Libc.kill(-pid, Libc.SIGKILL);
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    /// <summary>Keeps the first <see cref="MaxOutputBytes"/> of a stream and drains the rest, so that the program never blocks on a full pipe.</summary>
    private sealed class BoundedOutput(Action<string>? callLine = null)
    {
        private readonly MemoryStream _kept = new();
        private readonly List<byte> _line = new();
        public bool Cut { get; private set; }

        public async Task ReadAsync(Stream stream)
        {
            var buffer = new byte[16384];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    lock (_kept)
                    {
                        int keep = (int)Math.Min(read, MaxOutputBytes - _kept.Length);
                        _kept.Write(buffer, 0, keep);
                        Cut |= keep < read;
                    }
                    if (callLine is not null)
                        SplitLines(buffer.AsSpan(0, read));
                }
            }
            catch (IOException)
            {
                // The pipe broke with the process: what came before is kept.
            }
        }

        // Call lines are read as they come, past the kept output's bound too: their time is when they were read.
        private void SplitLines(ReadOnlySpan<byte> chunk)
        {
            foreach (byte b in chunk)
            {
                if (b != (byte)'\n')
                {
                    if (_line.Count < 4096)
                        _line.Add(b);
                    continue;
                }
                if (_line.Count >= CallLinePrefix.Length)
                {
                    string text = Encoding.UTF8.GetString(_line.ToArray()).TrimEnd('\r');
                    if (text.StartsWith(CallLinePrefix, StringComparison.Ordinal))
                        callLine!(text);
                }
                _line.Clear();
            }
        }

        public byte[] ToArray()
        {
            lock (_kept)
                return _kept.ToArray();
        }
    }

    public override string ToString() => $"{Role} program {string.Join(' ', Command)} (pid {Pid})";

    /// <summary>The program's output as text, for errors: its last non-empty line.</summary>
    public string LastErrorLine()
    {
        string text = Encoding.UTF8.GetString(Stderr.Length > 0 ? Stderr : Stdout);
        var line = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "";
        return line.Length > 200 ? line[..200] + "..." : line;
    }
}
