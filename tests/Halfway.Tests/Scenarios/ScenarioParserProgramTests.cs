using Halfway.Runs;
using Halfway.Scenarios;

namespace Halfway.Tests.Scenarios;

/// <summary>The user's programs in a scenario: what is read, and every bad input named by file, line and field.</summary>
public sealed class ScenarioParserProgramTests
{
    private static Scenario Parse(string server, string clients = "clients: { count: 2, steps: [connect] }") =>
        ScenarioParser.Parse($"name: p\n{server}\n{clients}\n", "p.yaml");

    private static ScenarioException Bad(string server, string clients = "clients: { count: 2, steps: [connect] }") =>
        Assert.Throws<ScenarioException>(() => Parse(server, clients));

    [Fact]
    public void A_program_server_reads_its_argv_port_ready_timeout_workdir_and_env()
    {
        var scenario = Parse("""
            server:
              command: [python3, server.py, --port, "9000"]
              port: 9000
              ready_timeout: 3s
              workdir: examples/python
              env: { MODE: slow }
            """);
        var program = scenario.Server.Program!;
        Assert.Equal(["python3", "server.py", "--port", "9000"], program.Command);
        Assert.Equal(9000, scenario.Server.Port);
        Assert.Equal(TimeSpan.FromSeconds(3), program.ReadyTimeout);
        Assert.Equal("examples/python", program.WorkDir);
        Assert.Equal("slow", program.Environment["MODE"]);
        Assert.Equal(3, program.Line);
        Assert.Null(scenario.Clients.Program);
    }

    [Fact]
    public void A_command_that_is_not_a_list_names_its_line_and_says_how_to_write_it()
    {
        var e = Bad("server: { command: python3 server.py, port: 9000 }");
        Assert.Equal(("p.yaml", 2, "server.command"), (e.File, e.Line, e.Field));
        Assert.Contains("expected a list", e.Message, StringComparison.Ordinal);
        Assert.Contains("[sh, -c", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_program_server_needs_a_port_and_refuses_the_built_in_servers_keys()
    {
        var noPort = Bad("server: { command: [python3, server.py] }");
        Assert.Equal("server.port", noPort.Field);
        Assert.Contains("which port your program listens on", noPort.Message, StringComparison.Ordinal);
        var backlog = Bad("server:\n  command: [python3, server.py]\n  port: 9000\n  backlog: 5");
        Assert.Equal(("server.backlog", 5), (backlog.Field, backlog.Line));
        Assert.Contains("built-in server", backlog.Message, StringComparison.Ordinal);
        Assert.Equal("server.command", Bad("server: { command: [], port: 9000 }").Field);
        Assert.Equal("server.ready_timeout", Bad("server: { command: [x], port: 9000, ready_timeout: 1h }").Field);
    }

    [Fact]
    public void A_missing_executable_is_found_before_any_lab_with_its_line_and_what_to_do()
    {
        var missing = Parse("server:\n  command: [no-such-program-halfway-17, --flag]\n  port: 9000");
        var e = Assert.Throws<ScenarioException>(() => ProgramRuns.Check(missing));
        Assert.Equal(("p.yaml", 3, "server.command"), (e.File, e.Line, e.Field));
        Assert.Contains("not an executable in PATH", e.Message, StringComparison.Ordinal);
        var path = Parse("server: { command: [./nowhere/server.py], port: 9000 }");
        Assert.Contains("does not exist", Assert.Throws<ScenarioException>(() => ProgramRuns.Check(path)).Message, StringComparison.Ordinal);
        var folder = Parse("server: { command: [python3], port: 9000, workdir: /no/such/folder }");
        Assert.Contains("workdir", Assert.Throws<ScenarioException>(() => ProgramRuns.Check(folder)).Message, StringComparison.Ordinal);
        ProgramRuns.Check(Parse("server: { command: [sh, -c, 'exit 0'], port: 9000 }"));
    }

    [Fact]
    public void Every_example_scenario_parses_and_names_programs_that_exist()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Halfway.Tests.Packaging.Tool.RepositoryRoot(), "examples"), "*.yaml", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var scenario = ScenarioParser.Parse(File.ReadAllText(file), file);
            Assert.True(scenario.Server.Program is not null || scenario.Clients.Program is not null, $"{file}: an example runs a program of its own");
            Assert.NotEmpty(scenario.Description);
            ProgramRuns.Check(scenario);
        }
    }

    [Fact]
    public void A_program_client_reads_its_command_and_count_and_refuses_steps()
    {
        var scenario = Parse("server: { port: 9000 }", "clients: { command: [python3, client.py], count: 3 }");
        Assert.Equal(3, scenario.Clients.Count);
        Assert.Equal(["python3", "client.py"], scenario.Clients.Program!.Command);
        Assert.Equal("clients.command", scenario.Clients.Program.Field);
        var steps = Bad("server: { port: 9000 }", "clients: { command: [python3, client.py], steps: [connect] }");
        Assert.Equal("clients.steps", steps.Field);
    }
}
