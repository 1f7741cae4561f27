using Halfway.Lab;

namespace Halfway.Tests;

/// <summary>
/// A test that builds a lab on the real kernel. Without root it is skipped with the reason,
/// except in CI (CI=true), where it runs and fails: CI must prove the lab works.
/// </summary>
public sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute()
    {
        if (LabPrivileges.Missing() is { } missing && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"lab test: {missing}";
    }
}

/// <summary>Every lab test shares one serial collection: they are timing-sensitive on 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabCollection
{
    public const string Name = "lab";
}
