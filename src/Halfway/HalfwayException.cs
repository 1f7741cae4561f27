namespace Halfway;

/// <summary>An error meant for the user: its message says what went wrong, where, and what to do. No stack trace is shown.</summary>
public class HalfwayException(string message, int exitCode = 2, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The lab could not be built or used (missing privileges, a refused kernel setting, ...).</summary>
public sealed class LabException(string message, Exception? inner = null) : HalfwayException(message, 2, inner);
