namespace Halfway.Scenarios;

/// <summary>
/// One net.* setting of the scenario, with where it was written (line, and field as written, e.g. kernel.host.NAME),
/// so that a value the kernel refuses at preflight is reported at its line.
/// </summary>
internal sealed record KernelSetting(string Name, string Value)
{
    public int Line { get; init; }
    public string Field { get; init; } = "";
}
