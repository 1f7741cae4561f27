namespace Halfway.Scenarios;

/// <summary>A scenario that cannot run: the message names the file, line and field, and what is allowed.</summary>
internal sealed class ScenarioException(string source, int line, string field, string problem)
    : HalfwayException(line > 0 ? $"{source}:{line}: {field}: {problem}" : $"{source}: {field}: {problem}")
{
    public string File { get; } = source;
    public int Line { get; } = line;
    public string Field { get; } = field;
}
