using System.CommandLine;

namespace Halfway.Cli;

/// <summary>Runs the parsed command and turns user-facing errors into one line on stderr and an exit code; never a stack trace.</summary>
public static class CommandRunner
{
    public static async Task<int> InvokeAsync(Command root, string[] args)
    {
        try
        {
            return await root.Parse(args).InvokeAsync();
        }
        catch (HalfwayException e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"halfway: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("halfway: interrupted");
            return 130;
        }
    }

    /// <summary>Wraps an action so that a <see cref="HalfwayException"/> thrown inside it reaches <see cref="InvokeAsync"/>.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (parse, token) =>
        {
            try
            {
                return await action(parse, token);
            }
            catch (HalfwayException e)
            {
                Console.Out.Flush();
                Console.Error.WriteLine($"halfway: {e.Message}");
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                Console.Error.WriteLine("halfway: interrupted");
                return 130;
            }
        };
}
