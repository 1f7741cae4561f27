using System.Reflection;
using NetArchTest.Rules;
using PublicApiGenerator;

namespace Halfway.Tests.Architecture;

/// <summary>
/// The house's one-way rules, checked on the compiled library: sources → observations → analysis → reports, every
/// P/Invoke in Native/, and a public API that changes only on purpose.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly Library = typeof(HalfwayException).Assembly;

    public static TheoryData<string, string[]> ForbiddenDependencies => new()
    {
        // room, rooms it must not use
        { "Halfway.Wire", ["Halfway.Native", "Halfway.Observe", "Halfway.Analysis", "Halfway.Capture", "Halfway.Lab", "Halfway.Traffic", "Halfway.Scenarios", "Halfway.Runs", "Halfway.Reports"] },
        { "Halfway.Observe", ["Halfway.Analysis", "Halfway.Capture", "Halfway.Lab", "Halfway.Traffic", "Halfway.Scenarios", "Halfway.Runs", "Halfway.Reports"] },
        { "Halfway.Analysis", ["Halfway.Capture", "Halfway.Lab", "Halfway.Traffic", "Halfway.Scenarios", "Halfway.Runs", "Halfway.Reports", "Halfway.Native"] },
        { "Halfway.Capture", ["Halfway.Lab", "Halfway.Traffic", "Halfway.Scenarios", "Halfway.Runs", "Halfway.Reports"] },
        { "Halfway.Lab", ["Halfway.Analysis", "Halfway.Capture", "Halfway.Traffic", "Halfway.Scenarios", "Halfway.Runs", "Halfway.Reports"] },
        { "Halfway.Traffic", ["Halfway.Analysis", "Halfway.Capture", "Halfway.Runs", "Halfway.Reports"] },
        { "Halfway.Runs", ["Halfway.Reports"] },
    };

    [Theory]
    [MemberData(nameof(ForbiddenDependencies))]
    public void A_room_uses_only_the_rooms_above_it(string room, string[] forbidden)
    {
        var result = Types.InAssembly(Library).That().ResideInNamespace(room).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"{room} uses a room below it: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void The_dependency_check_can_fail()
    {
        // Runs does use Analysis: a checker that found nothing here would prove nothing above.
        var result = Types.InAssembly(Library).That().ResideInNamespace("Halfway.Runs").ShouldNot().HaveDependencyOn("Halfway.Analysis").GetResult();
        Assert.False(result.IsSuccessful);
    }

    [Fact]
    public void Every_platform_invoke_lives_in_Native()
    {
        var invokes = Library.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .ToList();
        Assert.NotEmpty(invokes); // the check sees LibraryImport's generated stubs
        var outside = invokes.Where(m => m.DeclaringType?.Namespace is not "Halfway.Native").Select(m => $"{m.DeclaringType}.{m.Name}").ToList();
        Assert.True(outside.Count == 0, "P/Invoke outside Native/: " + string.Join(", ", outside));
    }

    [Fact]
    public void The_public_API_changes_only_on_purpose()
    {
        string approvedPath = Path.Combine(AppContext.BaseDirectory, "Architecture", "PublicApi.approved.txt");
        string actual = Library.GeneratePublicApi(new ApiGeneratorOptions { ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute"] });
        string approved = File.ReadAllText(approvedPath);
        Assert.True(Normalize(approved) == Normalize(actual),
            "The library's public API changed. If that is intended, copy this into tests/Halfway.Tests/Architecture/PublicApi.approved.txt:\n" + actual);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
