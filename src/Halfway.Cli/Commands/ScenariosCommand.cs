using System.CommandLine;
using System.Text;
using System.Text.Json;
using Halfway.Scenarios;

namespace Halfway.Cli.Commands;

/// <summary>`halfway scenarios`: lists the built-in scenarios, one line each.</summary>
public static class ScenariosCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the list as JSON" };
        var command = new Command("scenarios", "List the built-in scenarios with one line each") { json };
        command.SetAction(CommandRunner.Guard((parse, token) =>
        {
            var scenarios = ScenarioCatalog.BuiltInNames.Select(ScenarioCatalog.LoadBuiltIn).ToList();
            var examples = Examples();
            if (parse.GetValue(json))
            {
                Console.WriteLine(ListAsJson(scenarios, examples));
                return Task.FromResult(0);
            }
            int width = scenarios.Max(s => s.Name.Length);
            foreach (var scenario in scenarios)
                Console.WriteLine($"{scenario.Name.PadRight(width)}  {scenario.Variant,-8}  {scenario.Description}");
            Console.WriteLine();
            foreach (var (group, members) in ScenarioCatalog.Groups)
                Console.WriteLine($"{group.PadRight(width)}  group     runs {string.Join(", ", members)} concurrently");
            if (examples.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine("examples (files: halfway run FILE; your own programs in the lab, see docs/programs.md):");
                int fileWidth = examples.Max(e => e.File.Length);
                foreach (var (file, scenario) in examples)
                    Console.WriteLine($"{file.PadRight(fileWidth)}  {scenario.Description}");
            }
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>
    /// The example scenarios of examples/ (beside the current folder, or in the repository the tool was built from): files,
    /// not built-ins, because they run programs that live next to them. One that does not parse is left out.
    /// </summary>
    private static List<(string File, Scenario Scenario)> Examples()
    {
        var candidates = new List<string> { Path.Combine(Environment.CurrentDirectory, "examples") };
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Halfway.slnx")))
            {
                candidates.Add(Path.Combine(directory.FullName, "examples"));
                break;
            }
        }
        var folder = candidates.FirstOrDefault(Directory.Exists);
        if (folder is null)
            return [];
        var examples = new List<(string, Scenario)>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                string shown = Path.GetRelativePath(Environment.CurrentDirectory, file);
                examples.Add((shown, ScenarioParser.Parse(File.ReadAllText(file), file)));
            }
            catch (Exception e) when (e is HalfwayException or IOException or UnauthorizedAccessException)
            {
                // Not a scenario (or unreadable): not an example to list.
            }
        }
        return examples;
    }

    /// <summary>Written by hand: the native (AOT) build has no reflection-based serializer for anonymous types.</summary>
    private static string ListAsJson(IReadOnlyList<Scenario> scenarios, IReadOnlyList<(string File, Scenario Scenario)> examples)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("groups");
            foreach (var (group, members) in ScenarioCatalog.Groups)
            {
                json.WriteStartArray(group);
                foreach (var member in members)
                    json.WriteStringValue(member);
                json.WriteEndArray();
            }
            json.WriteEndObject();
            json.WriteStartArray("scenarios");
            foreach (var scenario in scenarios)
            {
                json.WriteStartObject();
                json.WriteString("name", scenario.Name);
                json.WriteString("variant", scenario.Variant);
                json.WriteString("description", scenario.Description);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("examples");
            foreach (var (file, scenario) in examples)
            {
                json.WriteStartObject();
                json.WriteString("file", file);
                json.WriteString("name", scenario.Name);
                json.WriteString("description", scenario.Description);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
