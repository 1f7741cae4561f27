using System.CommandLine;
using System.CommandLine.Help;
using Halfway.Cli.Commands;

namespace Halfway.Cli;

public static class Program
{
    /// <summary>
    /// True in the process started from the command line; false when a test calls <see cref="Run"/> with the console
    /// redirected to its own writers (output must then go through <see cref="Console.Out"/>).
    /// </summary>
    internal static bool OwnsStandardOutput { get; private set; }

    public static Task<int> Main(string[] args)
    {
        OwnsStandardOutput = true;
        return Run(args);
    }

    internal static async Task<int> Run(string[] args)
    {
        // A plain command named "halfway", not a RootCommand: that one takes its name from the executable, and the
        // launcher runs Halfway.Cli.dll, so help would say "Usage: Halfway.Cli".
        var root = new Command("halfway", "halfway: reproduce, observe and explain half-established TCP connections (connect() returned, accept() did not)")
        {
            new HelpOption(),
            new VersionOption(),
        };
        // One line per command; each command lives in its own file under Commands/.
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ScenariosCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(LabHoldCommand.Create());
        root.Subcommands.Add(WatchCommand.Create());
        return await CommandRunner.InvokeAsync(root, args);
    }
}
