using Halfway.Lab;
using Halfway.Scenarios;

namespace Halfway.Tests.Scenarios;

public sealed class ScenarioParserTests
{
    private const string Minimal = """
        name: t
        server: { port: 9000, backlog: 3 }
        clients:
          count: 4
          steps: [connect]
        """;

    [Fact]
    public void Every_built_in_scenario_parses_and_the_seed_group_has_the_three_quick_experiments()
    {
        foreach (var name in ScenarioCatalog.BuiltInNames)
            Assert.Equal(name, ScenarioCatalog.LoadBuiltIn(name).Name);
        var seed = ScenarioCatalog.Resolve(["seed"]);
        Assert.Equal(["seed-wait-send-receive", "seed-long-wait-send", "seed-receive-only"], seed.Select(s => s.Name));
        Assert.All(seed, s => Assert.Equal("quick", s.Variant));
        Assert.All(ScenarioCatalog.Resolve(["seed-faithful"]), s => Assert.Empty(s.Kernel));
        // The seed's scenarios say that their report answers the seed; nothing is inferred from a name.
        Assert.All(ScenarioCatalog.BuiltInNames.Select(ScenarioCatalog.LoadBuiltIn), s => Assert.True(s.AnswersSeed, s.Name));
    }

    [Fact]
    public void A_complete_scenario_reads_every_field()
    {
        var scenario = ScenarioParser.Parse("""
            name: full
            description: all the knobs
            duration: 90s
            topology: pair
            link:
              delay: 7ms
              jitter: 1ms
              loss: 0.01
              seed: 5
              server_to_client: { delay: 2ms }
              drop:
                - { name: acks, direction: client-to-server, flags: ACK, payload: 0, dst_port: 9000, during: 0s..2s }
                - { handshake_ack: true, first_connections: 3 }
            kernel:
              server: { net.ipv4.tcp_synack_retries: 1, net.core.somaxconn: 64 }
              client: { net.ipv4.tcp_syn_retries: 2 }
            server:
              port: 9000
              backlog: 4
              accept: { mode: rate, rate: 2.5, start_after: 1s, pauses: [3s..4s], acceptors: 2 }
              reply: Pong
              greeting: hello
            clients:
              count: 100
              rate: 50
              seed: 3
              options: { user_timeout: 5s, keepalive: { idle: 2s, interval: 1s, count: 3 }, nodelay: true, linger: 0 }
              steps:
                - connect: { timeout: 2s }
                - wait: 1s..5s
                - send: Ping
                - receive: { timeout: 30s }
                - shutdown: write
                - close
            """, "full.yaml");
        Assert.Equal(TimeSpan.FromMilliseconds(7), scenario.Link.ClientToServer.Delay);
        Assert.Equal(TimeSpan.FromMilliseconds(2), scenario.Link.ServerToClient.Delay);
        Assert.Equal(0.01, scenario.Link.ClientToServer.Loss);
        Assert.Equal(TimeSpan.FromSeconds(2), scenario.Link.DropRules[0].Until);
        Assert.Equal(Halfway.Wire.TcpFlags.Ack, scenario.Link.DropRules[0].Flags);
        Assert.True(scenario.Link.DropRules[1].HandshakeAck);
        Assert.Equal(AcceptMode.Rate, scenario.Server.Accept.Mode);
        Assert.Equal(2.5, scenario.Server.Accept.Rate);
        Assert.Single(scenario.Server.Accept.Pauses);
        Assert.Equal(6, scenario.Clients.Steps.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), scenario.Clients.Steps[1].WaitMin);
        Assert.Equal(TimeSpan.FromSeconds(5), scenario.Clients.Steps[1].WaitMax);
        Assert.Equal(TimeSpan.FromSeconds(5), scenario.Clients.Options.UserTimeout);
        Assert.Equal(3, scenario.Clients.Options.KeepAliveCount);
        Assert.Equal("1", scenario.Kernel["server"][0].Value);
        Assert.Equal(Topology.Pair, scenario.Topology);
    }

    [Theory]
    [InlineData("name: t\nserver: { port: 70000 }\nclients: { steps: [connect] }", 2, "server.port", "from 1 to 65535")]
    [InlineData("name: t\nserver: {}\nclients:\n  steps:\n    - connect\n    - wiat: 1s", 6, "clients.steps[1]", "unknown step 'wiat'")]
    [InlineData("name: t\nserver: {}\nclients:\n  steps: [connect, {wait: soon}]", 4, "clients.steps[1].wait", "not a duration")]
    [InlineData("name: t\nservre: {}\nclients: { steps: [connect] }", 2, "servre", "unknown key")]
    [InlineData("name: t\nserver: { accept: sometimes }\nclients: { steps: [connect] }", 2, "server.accept", "immediately, never")]
    [InlineData("name: t\nserver: {}\nclients: { steps: [send: x] }", 3, "clients.steps", "first step must be connect")]
    [InlineData("name: t\nkernel: { server: { kernel.hostname: x } }\nserver: {}\nclients: { steps: [connect] }", 2, "kernel.server.kernel.hostname", "only net.*")]
    [InlineData("name: t\nlink: { drop: [ { flags: 'SYN,BOGUS' } ] }\nserver: {}\nclients: { steps: [connect] }", 2, "link.drop[0].flags", "unknown TCP flag 'BOGUS'")]
    [InlineData("name: t\nserver: {}\nclients: { count: many, steps: [connect] }", 3, "clients.count", "not an integer")]
    [InlineData("name: t\nserver:\n  port: 1\n bad: 2\nclients: x", 4, "yaml", "not valid YAML")]
    [InlineData("server: {}\nname: x/../../../escaped\nclients: { steps: [connect] }", 2, "name", "not a scenario name")]
    [InlineData("name: ../up\nserver: {}\nclients: { steps: [connect] }", 1, "name", "not starting with '.'")]
    [InlineData("name: .hidden\nserver: {}\nclients: { steps: [connect] }", 1, "name", "not a scenario name")]
    [InlineData("name: ''\nserver: {}\nclients: { steps: [connect] }", 1, "name", "1 to 64")]
    [InlineData("name: two words\nserver: {}\nclients: { steps: [connect] }", 1, "name", "letters, digits")]
    [InlineData("name: \"a\\nb\"\nserver: {}\nclients: { steps: [connect] }", 1, "name", "'a?b' is not a scenario name")]
    [InlineData("name: /etc/passwd\nserver: {}\nclients: { steps: [connect] }", 1, "name", "not a scenario name")]
    public void A_malformed_scenario_names_the_file_line_and_field(string yaml, int line, string field, string problem)
    {
        var error = Assert.Throws<ScenarioException>(() => ScenarioParser.Parse(yaml, "bad.yaml"));
        Assert.Equal("bad.yaml", error.File);
        Assert.Equal(field, error.Field);
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Message);
        Assert.StartsWith($"bad.yaml:{line}: {field}: ", error.Message);
    }

    [Fact]
    public void Answers_is_seed_or_none()
    {
        Assert.False(ScenarioParser.Parse(Minimal, "min.yaml").AnswersSeed);
        Assert.True(ScenarioParser.Parse("answers: seed\n" + Minimal, "a.yaml").AnswersSeed);
        var e = Assert.Throws<ScenarioException>(() => ScenarioParser.Parse("answers: everything\n" + Minimal, "a.yaml"));
        Assert.Equal("answers", e.Field);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void Defaults_fill_what_a_minimal_scenario_leaves_out()
    {
        var scenario = ScenarioParser.Parse(Minimal, "min.yaml");
        Assert.Equal(TimeSpan.FromMilliseconds(5), scenario.Link.ClientToServer.Delay);
        Assert.Equal(AcceptMode.Immediately, scenario.Server.Accept.Mode);
        Assert.Equal("Pong", scenario.Server.Reply);
        Assert.Equal(TimeSpan.FromSeconds(60), scenario.Duration);
    }

    [Theory]
    [InlineData("t")]
    [InlineData("seed-wait_send.2")]
    [InlineData("a..b")]
    [InlineData("x234567890123456789012345678901234567890123456789012345678901234")]
    public void A_name_of_letters_digits_dash_underscore_and_dot_is_a_name(string name)
    {
        Assert.Equal(name, ScenarioParser.Parse(Minimal.Replace("name: t", $"name: {name}"), "ok.yaml").Name);
        Assert.False(ScenarioParser.IsValidName(name + "x".PadLeft(65 - name.Length, 'x')), "65 characters are too many");
    }

    [Fact]
    public void Kernel_settings_keep_their_line_and_field_as_written()
    {
        var scenario = ScenarioParser.Parse("name: k\ntopology: single\nkernel:\n  host:\n    net.ipv4.tcp_syncookies: 0\n    net.core.somaxconn: 8\nserver: {}\nclients: { steps: [connect] }", "k.yaml");
        var settings = scenario.Kernel["server"];
        Assert.Equal([5, 6], settings.Select(s => s.Line));
        Assert.Equal(["kernel.host.net.ipv4.tcp_syncookies", "kernel.host.net.core.somaxconn"], settings.Select(s => s.Field));
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("1.5s", 1500)]
    [InlineData("4min", 240000)]
    [InlineData("100us", 0.1)]
    public void Durations_parse_with_units(string text, double milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds, 6);
    }

    [Fact]
    public void Unknown_names_and_missing_files_are_clear_errors()
    {
        var unknown = Assert.Throws<HalfwayException>(() => ScenarioCatalog.Resolve(["no-such-scenario"]));
        Assert.Contains("seed-wait-send-receive", unknown.Message);
        var missing = Assert.Throws<HalfwayException>(() => ScenarioCatalog.Resolve(["/nonexistent/x.yaml"]));
        Assert.Contains("does not exist", missing.Message);
    }
}
