using System.CommandLine;
using Halfway.Cli.Commands;

namespace Halfway.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("halfway: reproduce, observe and explain half-established TCP connections (connect() returned, accept() did not)");
        // One line per command; each command lives in its own file under Commands/.
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ScenariosCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(LabHoldCommand.Create());
        root.Subcommands.Add(WatchCommand.Create());
        return await CommandRunner.InvokeAsync(root, args);
    }
}
