using System.CommandLine;
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
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    groups = ScenarioCatalog.Groups,
                    scenarios = scenarios.Select(s => new { name = s.Name, variant = s.Variant, description = s.Description }),
                }, new JsonSerializerOptions { WriteIndented = true }));
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
}
