using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Halfway.Native;

namespace Halfway.Cli;

/// <summary>
/// Runs the parsed command and turns every failure into one line on stderr and an exit code; never a stack trace.
/// Exit codes: 0 success, 2 unusable input or environment, 3 (explain) damaged input, 70 a bug in halfway,
/// 130/143 interrupted by SIGINT/SIGTERM (after `run` wrote what it observed).
/// </summary>
public static class CommandRunner
{
    public const int UsageExitCode = 2;
    public const int InternalErrorExitCode = 70;

    /// <summary>The signal that interrupted the current command (SIGINT or SIGTERM), and the shell's exit code for it.</summary>
    public static Interruption? Interrupted { get; private set; }

    public static async Task<int> InvokeAsync(Command root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            // System.CommandLine would print the errors and the whole help and exit 1; a usage error is exit 2, one line.
            Console.Error.WriteLine($"halfway: {UsageError(root, parse)}");
            return UsageExitCode;
        }
        using var signals = new SignalHandler();
        try
        {
            // No ProcessTerminationTimeout: System.CommandLine would return 130 two seconds after Ctrl-C while `run` is
            // still writing its report, and the process would end without it. Signals are ours (SignalHandler).
            var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
            return await parse.InvokeAsync(configuration, signals.Token);
        }
        catch (Exception e)
        {
            return Report(e, signals.Token);
        }
        finally
        {
            Console.Out.Flush();
        }
    }

    private static string UsageError(Command root, ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (command == root)
        {
            // The root has no action: its errors are "no command" and the unknown word given instead, in one.
            string commands = string.Join(", ", root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
            if (parse.UnmatchedTokens.Count == 0)
                return $"no command given; commands: {commands} (`halfway --help` describes them)";
            string token = parse.UnmatchedTokens[0];
            return $"unknown {(token.StartsWith('-') ? "option" : "command")} '{token}'; commands: {commands} (`halfway --help` describes them)";
        }
        string name = command == root ? root.Name : $"{root.Name} {command.Name}";
        return $"{string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')))} (`{name} --help` shows the usage)";
    }

    /// <summary>Kept for the commands' actions: failures are turned into messages in one place, <see cref="InvokeAsync"/>.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> action) => action;

    private static int Report(Exception e, CancellationToken token)
    {
        Console.Out.Flush();
        switch (e)
        {
            case HalfwayException halfway:
                Console.Error.WriteLine($"halfway: {halfway.Message}");
                return halfway.ExitCode;
            case OperationCanceledException when token.IsCancellationRequested:
                Console.Error.WriteLine("halfway: interrupted");
                return Interrupted?.ExitCode ?? 130;
            case IOException or UnauthorizedAccessException:
                // The file system or a device refused: the message names the path; what to do depends on it.
                Console.Error.WriteLine($"halfway: {e.Message.TrimEnd('.')}: check the path, its permissions and free space, then run again");
                return UsageExitCode;
            default:
                Console.Error.WriteLine($"halfway: internal error ({e.GetType().Name}: {e.Message.TrimEnd('.')}); this is a bug in halfway: please report it with the command line (HALFWAY_DEBUG=1 prints the stack trace)");
                if (Environment.GetEnvironmentVariable("HALFWAY_DEBUG") == "1")
                    Console.Error.WriteLine(e);
                return InternalErrorExitCode;
        }
    }

    /// <summary>When and by which signal the command was interrupted.</summary>
    public sealed record Interruption(PosixSignal Signal, DateTimeOffset At)
    {
        public int ExitCode => Signal == PosixSignal.SIGTERM ? 143 : 130;
        public string Name => Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
    }

    /// <summary>
    /// The first SIGINT or SIGTERM cancels the command's token (`run` then stops its labs and writes what it saw);
    /// a second one ends the process at once.
    /// </summary>
    private sealed class SignalHandler : IDisposable
    {
        private readonly CancellationTokenSource _source = new();
        private readonly PosixSignalRegistration _interrupt;
        private readonly PosixSignalRegistration _terminate;
        private int _signals;

        public SignalHandler()
        {
            Interrupted = null;
            _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        }

        public CancellationToken Token => _source.Token;

        private void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            var interruption = new Interruption(context.Signal, DateTimeOffset.UtcNow);
            if (Interlocked.Increment(ref _signals) > 1)
            {
                Console.Error.WriteLine($"\nhalfway: {interruption.Name} again: quitting at once, without a report");
                Halfway.Traffic.ProgramProcess.KillAll();
                Libc.Exit(interruption.ExitCode);
            }
            Interrupted = interruption;
            _source.Cancel();
        }

        public void Dispose()
        {
            _interrupt.Dispose();
            _terminate.Dispose();
            _source.Dispose();
        }
    }
}
