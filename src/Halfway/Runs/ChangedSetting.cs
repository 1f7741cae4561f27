namespace Halfway.Runs;

/// <summary>A setting the run changed: the kernel's default (read from the fresh namespace) and the value in force.</summary>
internal sealed record ChangedSetting(string Host, string Name, string Default, string Value);
