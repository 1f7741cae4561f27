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
            if (parse.GetValue(json))
            {
                Console.WriteLine(ListAsJson(scenarios));
                return Task.FromResult(0);
            }
            int width = scenarios.Max(s => s.Name.Length);
            foreach (var scenario in scenarios)
                Console.WriteLine($"{scenario.Name.PadRight(width)}  {scenario.Variant,-8}  {scenario.Description}");
            Console.WriteLine();
            foreach (var (group, members) in ScenarioCatalog.Groups)
                Console.WriteLine($"{group.PadRight(width)}  group     runs {string.Join(", ", members)} concurrently");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Written by hand: the native (AOT) build has no reflection-based serializer for anonymous types.</summary>
    private static string ListAsJson(IReadOnlyList<Scenario> scenarios)
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
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
