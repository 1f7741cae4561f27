using System.Reflection;

namespace Halfway.Scenarios;

/// <summary>The built-in scenarios embedded in the tool, and the resolution of names and files given to `halfway run`.</summary>
internal static class ScenarioCatalog
{
    private const string Prefix = "scenarios/";

    /// <summary>Names that stand for several scenarios.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Groups = new Dictionary<string, string[]>
    {
        ["seed"] = ["seed-wait-send-receive", "seed-long-wait-send", "seed-receive-only"],
        ["seed-faithful"] = ["seed-wait-send-receive-faithful", "seed-long-wait-send-faithful", "seed-receive-only-faithful"],
    };

    public static IReadOnlyList<string> BuiltInNames =>
        typeof(ScenarioCatalog).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..^".yaml".Length])
            .Order(StringComparer.Ordinal)
            .ToList();

    public static Scenario LoadBuiltIn(string name)
    {
        using var stream = typeof(ScenarioCatalog).Assembly.GetManifestResourceStream($"{Prefix}{name}.yaml")
            ?? throw new HalfwayException($"no built-in scenario named '{name}'; `halfway scenarios` lists them");
        using var reader = new StreamReader(stream);
        return ScenarioParser.Parse(reader.ReadToEnd(), $"built-in:{name}");
    }

    /// <summary>Resolves each argument: a group (seed), a built-in name, or a scenario file.</summary>
    public static List<Scenario> Resolve(IEnumerable<string> arguments)
    {
        var scenarios = new List<Scenario>();
        foreach (var argument in arguments)
        {
            if (Groups.TryGetValue(argument, out var members))
                scenarios.AddRange(members.Select(LoadBuiltIn));
            else if (File.Exists(argument))
                scenarios.Add(ScenarioParser.Parse(File.ReadAllText(argument), argument));
            else if (BuiltInNames.Contains(argument))
                scenarios.Add(LoadBuiltIn(argument));
            else if (argument.StartsWith('-'))
                throw new HalfwayException($"unknown option '{argument}'; `halfway run --help` lists the options (a scenario file whose name starts with '-' is given as ./{argument})");
            else if (argument.EndsWith(".yaml", StringComparison.Ordinal) || argument.EndsWith(".yml", StringComparison.Ordinal) || argument.Contains('/'))
                throw new HalfwayException($"scenario file '{argument}' does not exist");
            else
                throw new HalfwayException($"'{argument}' is neither a built-in scenario nor a file; built-in: {string.Join(", ", Groups.Keys.Concat(BuiltInNames))}");
        }
        var duplicate = scenarios.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new HalfwayException($"scenario '{duplicate.Key}' is given twice ({string.Join(", ", duplicate.Select(s => s.Source))}); each scenario of a run needs its own name");
        return scenarios;
    }
}
