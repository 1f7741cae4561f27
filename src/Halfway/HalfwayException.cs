namespace Halfway;

/// <summary>An error meant for the user: its message says what went wrong, where, and what to do. No stack trace is shown.</summary>
internal class HalfwayException(string message, int exitCode = 2, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
