using System.CommandLine;

namespace Halfway.Cli.Commands;

/// <summary>`halfway scenarios`: lists the built-in scenarios, one line each.</summary>
public static class ScenariosCommand
{
    public static Command Create()
    {
        var command = new Command("scenarios", "List the built-in scenarios with one line each");
        command.SetAction(CommandRunner.Guard((parse, token) =>
        {
            Console.WriteLine("(no built-in scenarios yet)");
            return Task.FromResult(0);
        }));
        return command;
    }
}
