using System.Globalization;
using Halfway.Lab;
using Halfway.Wire;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Halfway.Observe;

namespace Halfway.Scenarios;

/// <summary>
/// Reads a scenario file (YAML) into a <see cref="Scenario"/>. Every error names the file, the line
/// and the field, and says what is allowed; unknown keys are errors, not silently ignored.
/// </summary>
internal sealed class ScenarioParser
{
    private readonly string _source;

    private ScenarioParser(string source) => _source = source;

    public static Scenario Parse(string yaml, string source)
    {
        var parser = new ScenarioParser(source);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ScenarioException(source, (int)e.Start.Line, "yaml", $"not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet reports some structural errors (e.g. an unclosed flow mapping) this way, without a position.
            throw new ScenarioException(source, 0, "yaml", $"not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ScenarioException(source, 1, "(document)", "expected one YAML mapping with keys such as name, server, clients");
        return parser.ParseScenario(root);
    }

    private Scenario ParseScenario(YamlMappingNode root)
    {
        var map = Keys(root, "", "name", "description", "variant", "duration", "topology", "link", "kernel", "server", "clients", "notes", "answers");
        var topology = Enum(map, "topology", "", Topology.Pair, ("pair", Topology.Pair), ("single", Topology.Single));
        var link = map.TryGetValue("link", out var linkNode) ? ParseLink(linkNode, "link") : new LinkOptions();
        if (topology == Topology.Single && linkNode is not null)
            throw Error(linkNode, "link", "a single topology has no link (client and server share one loopback); remove link or use topology: pair");
        var scenario = new Scenario
        {
            Name = ScenarioName(map, root),
            Description = OptionalString(map, "description", "") ?? "",
            Variant = map.ContainsKey("variant") ? Enum(map, "variant", "", "custom", ("quick", "quick"), ("faithful", "faithful"), ("custom", "custom")) : "custom",
            Source = _source,
            Duration = map.TryGetValue("duration", out var d) ? PositiveDuration(d, "duration") : TimeSpan.FromSeconds(60),
            Topology = topology,
            Link = link,
            Kernel = map.TryGetValue("kernel", out var k) ? ParseKernel(k, topology) : new Dictionary<string, IReadOnlyList<KernelSetting>>(),
            Server = map.TryGetValue("server", out var s) ? ParseServer(s) : throw Error(root, "server", "missing: say at least `server: { port: 8080, backlog: 5 }`"),
            Clients = map.TryGetValue("clients", out var c) ? ParseClients(c) : throw Error(root, "clients", "missing: say at least `clients: { count: 10, steps: [connect] }`"),
            Notes = map.TryGetValue("notes", out var n) ? Sequence(n, "notes").Select(x => Scalar(x, "notes[]")).ToList() : [],
            AnswersSeed = map.ContainsKey("answers") && Enum(map, "answers", "", false, ("seed", true), ("none", false)),
        };
        if (scenario.Duration > TimeSpan.FromHours(2))
            throw Error(d!, "duration", "at most 2h: every run is bounded");
        return scenario;
    }

    /// <summary>The longest scenario name: it names the capture file and is part of the run folder's name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>A name is a name, not a path: ASCII letters, digits, '-', '_', '.', not starting with '.'.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private string ScenarioName(Dictionary<string, YamlNode> map, YamlNode root)
    {
        string name = RequiredString(map, "name", "", root);
        if (!IsValidName(name))
        {
            // Echo it without control characters or unbounded length: the error is one line.
            string shown = new string(name.Take(MaxNameLength + 8).Select(c => char.IsControl(c) ? '?' : c).ToArray()) + (name.Length > MaxNameLength + 8 ? "..." : "");
            throw Error(map["name"], "name", $"'{shown}' is not a scenario name: use 1 to {MaxNameLength} ASCII letters, digits, '-', '_' and '.', not starting with '.' (the name becomes the capture's file name and part of the run folder's), e.g. my-scenario_2");
        }
        return name;
    }

    private LinkOptions ParseLink(YamlNode node, string field)
    {
        var map = Keys(node, field, "delay", "jitter", "reorder", "loss", "seed", "client_to_server", "server_to_client", "drop", "snap_length");
        var both = ParseImpairment(map, field, new LinkImpairment());
        var clientToServer = map.TryGetValue("client_to_server", out var c2s)
            ? ParseImpairment(Keys(c2s, $"{field}.client_to_server", "delay", "jitter", "reorder", "loss", "seed"), $"{field}.client_to_server", both)
            : both;
        var serverToClient = map.TryGetValue("server_to_client", out var s2c)
            ? ParseImpairment(Keys(s2c, $"{field}.server_to_client", "delay", "jitter", "reorder", "loss", "seed"), $"{field}.server_to_client", both with { Seed = both.Seed + 1 })
            : both with { Seed = both.Seed + 1 };
        var rules = new List<DropRule>();
        if (map.TryGetValue("drop", out var drop))
        {
            int i = 0;
            foreach (var ruleNode in Sequence(drop, $"{field}.drop"))
                rules.Add(ParseDropRule(ruleNode, $"{field}.drop[{i++}]"));
        }
        return new LinkOptions
        {
            ClientToServer = clientToServer,
            ServerToClient = serverToClient,
            DropRules = rules,
            SnapLength = map.TryGetValue("snap_length", out var snap) ? Integer(snap, $"{field}.snap_length", 64, 65535) : 256,
        };
    }

    private LinkImpairment ParseImpairment(Dictionary<string, YamlNode> map, string field, LinkImpairment defaults) => new()
    {
        Delay = map.TryGetValue("delay", out var delay) ? Duration(delay, $"{field}.delay", max: TimeSpan.FromSeconds(10)) : defaults.Delay,
        Jitter = map.TryGetValue("jitter", out var jitter) ? Duration(jitter, $"{field}.jitter", max: TimeSpan.FromSeconds(10)) : defaults.Jitter,
        Reorder = map.TryGetValue("reorder", out var reorder) ? Boolean(reorder, $"{field}.reorder") : defaults.Reorder,
        Loss = map.TryGetValue("loss", out var loss) ? Number(loss, $"{field}.loss", 0, 1) : defaults.Loss,
        Seed = map.TryGetValue("seed", out var seed) ? Integer(seed, $"{field}.seed", int.MinValue, int.MaxValue) : defaults.Seed,
    };

    private DropRule ParseDropRule(YamlNode node, string field)
    {
        var map = Keys(node, field, "name", "direction", "flags", "src_port", "dst_port", "payload", "during", "from", "until", "count", "handshake_ack", "first_connections");
        (int? min, int? max) payload = (null, null);
        if (map.TryGetValue("payload", out var p))
        {
            var text = Scalar(p, $"{field}.payload");
            var parts = text.Split("..");
            if (parts.Length == 1 && int.TryParse(text, out int exact) && exact >= 0) payload = (exact, exact);
            else if (parts.Length == 2 && int.TryParse(parts[0], out int lo) && int.TryParse(parts[1], out int hi) && lo >= 0 && hi >= lo) payload = (lo, hi);
            else throw Error(p, $"{field}.payload", $"'{text}' is not a payload length: give N or MIN..MAX bytes, e.g. 0 for pure ACKs");
        }
        TimeSpan? from = map.TryGetValue("from", out var f) ? Duration(f, $"{field}.from") : null;
        TimeSpan? until = map.TryGetValue("until", out var u) ? Duration(u, $"{field}.until") : null;
        if (map.TryGetValue("during", out var during))
            (from, until) = Range(during, $"{field}.during");
        return new DropRule
        {
            Name = OptionalString(map, "name", field) ?? field,
            Direction = map.ContainsKey("direction")
                ? Enum(map, "direction", field, LinkDirection.ClientToServer, ("client-to-server", LinkDirection.ClientToServer), ("server-to-client", LinkDirection.ServerToClient))
                : null,
            Flags = map.TryGetValue("flags", out var flags) ? Flags(flags, $"{field}.flags") : null,
            SourcePort = map.TryGetValue("src_port", out var sp) ? Integer(sp, $"{field}.src_port", 1, 65535) : null,
            DestinationPort = map.TryGetValue("dst_port", out var dp) ? Integer(dp, $"{field}.dst_port", 1, 65535) : null,
            PayloadMin = payload.min,
            PayloadMax = payload.max,
            From = from,
            Until = until,
            Count = map.TryGetValue("count", out var count) ? Integer(count, $"{field}.count", 1, int.MaxValue) : null,
            HandshakeAck = map.TryGetValue("handshake_ack", out var ha) && Boolean(ha, $"{field}.handshake_ack"),
            FirstConnections = map.TryGetValue("first_connections", out var fc) ? Integer(fc, $"{field}.first_connections", 1, int.MaxValue) : null,
        };
    }

    private TcpFlags Flags(YamlNode node, string field)
    {
        var text = Scalar(node, field);
        TcpFlags flags = TcpFlags.None;
        foreach (var part in text.Split([',', '|', '+', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            flags |= part.ToUpperInvariant() switch
            {
                "SYN" => TcpFlags.Syn, "ACK" => TcpFlags.Ack, "FIN" => TcpFlags.Fin, "RST" => TcpFlags.Rst,
                "PSH" => TcpFlags.Psh, "URG" => TcpFlags.Urg, "ECE" => TcpFlags.Ece, "CWR" => TcpFlags.Cwr,
                _ => throw Error(node, field, $"unknown TCP flag '{part}': use SYN, ACK, FIN, RST, PSH, URG, ECE, CWR joined by commas (the packet's flags must be exactly these)"),
            };
        }
        return flags;
    }

    private IReadOnlyDictionary<string, IReadOnlyList<KernelSetting>> ParseKernel(YamlNode node, Topology topology)
    {
        var roles = topology == Topology.Pair ? new[] { "client", "server" } : new[] { "host", "client", "server" };
        var map = Keys(node, "kernel", roles);
        var result = new Dictionary<string, IReadOnlyList<KernelSetting>>();
        foreach (var (role, settingsNode) in map)
        {
            if (settingsNode is not YamlMappingNode settings)
                throw Error(settingsNode, $"kernel.{role}", "expected a mapping of net.* settings to values, e.g. net.ipv4.tcp_synack_retries: 1");
            var list = new List<KernelSetting>();
            foreach (var (keyNode, valueNode) in settings.Children)
            {
                var key = Scalar(keyNode, $"kernel.{role}");
                if (!key.StartsWith("net.", StringComparison.Ordinal))
                    throw Error(keyNode, $"kernel.{role}.{key}", "only net.* settings can be set in a lab (they are per network namespace)");
                list.Add(new(key, Scalar(valueNode, $"kernel.{role}.{key}")) { Line = (int)keyNode.Start.Line, Field = $"kernel.{role}.{key}" });
            }
            result[role == "host" ? "server" : role] = list;
        }
        return result;
    }

    private static readonly string[] BuiltInServerKeys = ["backlog", "accept", "reply", "greeting", "defer_accept"];
    private static readonly string[] ProgramKeys = ["command", "workdir", "env"];

    private ServerSpec ParseServer(YamlNode node)
    {
        if (node is YamlMappingNode mapping && mapping.Children.Keys.Any(k => k is YamlScalarNode { Value: "command" }))
            return ParseProgramServer(mapping);
        var map = Keys(node, "server", ["port", .. BuiltInServerKeys]);
        return new ServerSpec
        {
            Port = map.TryGetValue("port", out var port) ? Integer(port, "server.port", 1, 65535) : 8080,
            Backlog = map.TryGetValue("backlog", out var backlog) ? Integer(backlog, "server.backlog", 0, 65535) : 5,
            Accept = map.TryGetValue("accept", out var accept) ? ParseAccept(accept) : new AcceptPolicy(),
            Reply = map.TryGetValue("reply", out var reply) ? NullableScalar(reply, "server.reply") : "Pong",
            Greeting = map.TryGetValue("greeting", out var greeting) ? NullableScalar(greeting, "server.greeting") : null,
            DeferAcceptSeconds = map.TryGetValue("defer_accept", out var defer) ? Integer(defer, "server.defer_accept", 1, 3600) : null,
        };
    }

    /// <summary>`server: { command: [...], port: N }`: the user's program listens; the built-in server's keys do not apply.</summary>
    private ServerSpec ParseProgramServer(YamlMappingNode node)
    {
        foreach (var (key, _) in node.Children)
        {
            if (key is YamlScalarNode { Value: { } name } && BuiltInServerKeys.Contains(name))
                throw Error(key, $"server.{name}", "configures the built-in server, which does not run when server.command is given: set it in your program (e.g. its listen backlog) and remove this key");
        }
        var map = Keys(node, "server", ["port", "ready_timeout", .. ProgramKeys]);
        if (!map.TryGetValue("port", out var port))
            throw Error(node, "server.port", "missing: say which port your program listens on, e.g. port: 8080 (the lab waits until it listens there, then starts the clients)");
        return new ServerSpec
        {
            Port = Integer(port, "server.port", 1, 65535),
            Program = ParseProgram(map, "server") with
            {
                ReadyTimeout = map.TryGetValue("ready_timeout", out var t) ? Duration(t, "server.ready_timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)) : TimeSpan.FromSeconds(10),
            },
        };
    }

    private ProgramSpec ParseProgram(Dictionary<string, YamlNode> map, string field)
    {
        var commandNode = map["command"];
        if (commandNode is not YamlSequenceNode sequence)
            throw Error(commandNode, $"{field}.command", "expected a list: the program and its arguments, e.g. [python3, server.py, --port, \"8080\"]; no shell runs it unless you write one: [sh, -c, \"...\"]");
        var command = new List<string>();
        int i = 0;
        foreach (var part in sequence.Children)
            command.Add(Scalar(part, $"{field}.command[{i++}]"));
        if (command.Count == 0 || command[0].Length == 0)
            throw Error(commandNode, $"{field}.command", "empty: give the program and its arguments, e.g. [python3, server.py]");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (map.TryGetValue("env", out var env))
        {
            if (env is not YamlMappingNode envMap)
                throw Error(env, $"{field}.env", "expected a mapping of variable names to values, e.g. { PORT: \"8080\" }");
            foreach (var (keyNode, valueNode) in envMap.Children)
            {
                string name = Scalar(keyNode, $"{field}.env");
                if (name.Length == 0 || name.Contains('='))
                    throw Error(keyNode, $"{field}.env.{name}", "not an environment variable name");
                environment[name] = Scalar(valueNode, $"{field}.env.{name}");
            }
        }
        return new ProgramSpec
        {
            Command = command,
            WorkDir = map.TryGetValue("workdir", out var w) ? Scalar(w, $"{field}.workdir") : null,
            Environment = environment,
            Line = (int)commandNode.Start.Line,
            Field = $"{field}.command",
        };
    }

    private AcceptPolicy ParseAccept(YamlNode node)
    {
        const string field = "server.accept";
        if (node is YamlScalarNode)
        {
            return Scalar(node, field) switch
            {
                "immediately" => new AcceptPolicy { Mode = AcceptMode.Immediately },
                "never" => new AcceptPolicy { Mode = AcceptMode.Never },
                var other => throw Error(node, field, $"'{other}' is not an accept policy: use immediately, never, or a mapping {{ mode: rate, rate: 10, start_after: 2s, pauses: [1s..5s], acceptors: 4 }}"),
            };
        }
        var map = Keys(node, field, "mode", "rate", "start_after", "pauses", "acceptors");
        var mode = Enum(map, "mode", field, AcceptMode.Immediately, ("immediately", AcceptMode.Immediately), ("never", AcceptMode.Never), ("rate", AcceptMode.Rate));
        double rate = map.TryGetValue("rate", out var r) ? Number(r, $"{field}.rate", 0.001, 1_000_000) : 0;
        if (mode == AcceptMode.Rate && rate <= 0)
            throw Error(node, $"{field}.rate", "mode rate needs rate: accepts per second, e.g. rate: 10");
        var pauses = new List<(TimeSpan, TimeSpan)>();
        if (map.TryGetValue("pauses", out var p))
        {
            int i = 0;
            foreach (var pause in Sequence(p, $"{field}.pauses"))
            {
                var (from, until) = Range(pause, $"{field}.pauses[{i++}]");
                pauses.Add((from ?? TimeSpan.Zero, until ?? TimeSpan.MaxValue));
            }
        }
        return new AcceptPolicy
        {
            Mode = mode,
            Rate = rate,
            StartAfter = map.TryGetValue("start_after", out var sa) ? Duration(sa, $"{field}.start_after") : TimeSpan.Zero,
            Pauses = pauses,
            Acceptors = map.TryGetValue("acceptors", out var a) ? Integer(a, $"{field}.acceptors", 1, 64) : 1,
        };
    }

    private ClientSpec ParseClients(YamlNode node)
    {
        if (node is YamlMappingNode mapping && mapping.Children.Keys.Any(k => k is YamlScalarNode { Value: "command" }))
        {
            foreach (var (key, _) in mapping.Children)
            {
                if (key is YamlScalarNode { Value: "rate" or "seed" or "options" or "steps" } builtIn)
                    throw Error(key, $"clients.{builtIn.Value}", "drives the built-in client, which does not run when clients.command is given: your program makes its own calls; remove this key");
            }
            var programMap = Keys(node, "clients", ["count", .. ProgramKeys]);
            return new ClientSpec
            {
                Count = programMap.TryGetValue("count", out var programCount) ? Integer(programCount, "clients.count", 1, 1000) : 1,
                Program = ParseProgram(programMap, "clients"),
            };
        }
        var map = Keys(node, "clients", "count", "rate", "seed", "options", "steps");
        var steps = new List<Step>();
        if (!map.TryGetValue("steps", out var stepsNode))
            throw Error(node, "clients.steps", "missing: list the steps, e.g. [connect, {wait: 1s..5s}, {send: Ping}, {receive: {timeout: 30s}}]");
        int i = 0;
        foreach (var stepNode in Sequence(stepsNode, "clients.steps"))
            steps.Add(ParseStep(stepNode, $"clients.steps[{i++}]"));
        if (steps.Count == 0 || steps[0].Kind != ClientStep.Connect)
            throw Error(stepsNode, "clients.steps", "the first step must be connect");
        if (steps.Skip(1).Any(s => s.Kind == ClientStep.Connect))
            throw Error(stepsNode, "clients.steps", "connect may appear only once, as the first step");
        return new ClientSpec
        {
            Count = map.TryGetValue("count", out var count) ? Integer(count, "clients.count", 1, 1_000_000) : 1,
            Rate = map.TryGetValue("rate", out var rate) ? Number(rate, "clients.rate", 0.001, 10_000_000) : null,
            Seed = map.TryGetValue("seed", out var seed) ? Integer(seed, "clients.seed", int.MinValue, int.MaxValue) : 1,
            Options = map.TryGetValue("options", out var options) ? ParseOptions(options) : new SocketOptions(),
            Steps = steps,
        };
    }

    private SocketOptions ParseOptions(YamlNode node)
    {
        var map = Keys(node, "clients.options", "user_timeout", "keepalive", "nodelay", "linger");
        TimeSpan? idle = null, interval = null;
        int? count = null;
        if (map.TryGetValue("keepalive", out var keepalive))
        {
            var k = Keys(keepalive, "clients.options.keepalive", "idle", "interval", "count");
            idle = k.TryGetValue("idle", out var i) ? Duration(i, "clients.options.keepalive.idle", TimeSpan.FromSeconds(1)) : TimeSpan.FromSeconds(1);
            interval = k.TryGetValue("interval", out var iv) ? Duration(iv, "clients.options.keepalive.interval", TimeSpan.FromSeconds(1)) : TimeSpan.FromSeconds(1);
            count = k.TryGetValue("count", out var c) ? Integer(c, "clients.options.keepalive.count", 1, 127) : 3;
        }
        return new SocketOptions
        {
            UserTimeout = map.TryGetValue("user_timeout", out var ut) ? Duration(ut, "clients.options.user_timeout", TimeSpan.FromMilliseconds(1)) : null,
            KeepAliveIdle = idle,
            KeepAliveInterval = interval,
            KeepAliveCount = count,
            NoDelay = map.TryGetValue("nodelay", out var nd) ? Boolean(nd, "clients.options.nodelay") : null,
            LingerSeconds = map.TryGetValue("linger", out var l) ? Integer(l, "clients.options.linger", 0, 3600) : null,
        };
    }

    private Step ParseStep(YamlNode node, string field)
    {
        int line = (int)node.Start.Line;
        string kind;
        YamlNode? argument = null;
        if (node is YamlScalarNode)
            kind = Scalar(node, field);
        else if (node is YamlMappingNode { Children.Count: 1 } single)
        {
            kind = Scalar(single.Children.First().Key, field);
            argument = single.Children.First().Value;
        }
        else
            throw Error(node, field, "a step is a name (connect, close) or a one-key mapping, e.g. {wait: 1s..5s}, {send: Ping}, {receive: {timeout: 30s}}");
        switch (kind)
        {
            case "connect":
            case "receive":
            {
                TimeSpan? timeout = null;
                if (argument is YamlScalarNode)
                    timeout = Duration(argument, $"{field}.{kind}", TimeSpan.FromMilliseconds(1));
                else if (argument is not null)
                {
                    var map = Keys(argument, $"{field}.{kind}", "timeout");
                    if (map.TryGetValue("timeout", out var t))
                        timeout = Duration(t, $"{field}.{kind}.timeout", TimeSpan.FromMilliseconds(1));
                }
                return new Step { Kind = kind == "connect" ? ClientStep.Connect : ClientStep.Receive, Timeout = timeout, Line = line };
            }
            case "wait":
            {
                if (argument is null)
                    throw Error(node, $"{field}.wait", "say how long: a duration (2s) or a range drawn per connection (1s..5s)");
                var text = Scalar(argument, $"{field}.wait");
                if (text.Contains(".."))
                {
                    var (from, until) = Range(argument, $"{field}.wait");
                    return new Step { Kind = ClientStep.Wait, WaitMin = from ?? TimeSpan.Zero, WaitMax = until ?? from ?? TimeSpan.Zero, Line = line };
                }
                var fixedWait = Duration(argument, $"{field}.wait");
                return new Step { Kind = ClientStep.Wait, WaitMin = fixedWait, WaitMax = fixedWait, Line = line };
            }
            case "send":
                if (argument is null)
                    throw Error(node, $"{field}.send", "say what to send, e.g. {send: Ping}");
                return new Step { Kind = ClientStep.Send, Data = Scalar(argument, $"{field}.send"), Line = line };
            case "close":
                return new Step { Kind = ClientStep.Close, Line = line };
            case "shutdown":
            {
                string how = argument is null ? "write" : Scalar(argument, $"{field}.shutdown");
                if (how is not ("write" or "read" or "both"))
                    throw Error(argument!, $"{field}.shutdown", $"'{how}' is not a direction: use write, read or both");
                return new Step { Kind = ClientStep.Shutdown, How = how, Line = line };
            }
            default:
                throw Error(node, field, $"unknown step '{kind}': use connect, wait, send, receive, shutdown, close");
        }
    }

    // ---- small readers that carry the line and field into every error ----

    private ScenarioException Error(YamlNode node, string field, string problem) => new(_source, (int)node.Start.Line, field, problem);

    private Dictionary<string, YamlNode> Keys(YamlNode node, string field, params string[] allowed)
    {
        if (node is not YamlMappingNode mapping)
            throw Error(node, field.Length == 0 ? "(document)" : field, $"expected a mapping with keys {string.Join(", ", allowed)}");
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = Scalar(keyNode, field);
            string path = field.Length == 0 ? key : $"{field}.{key}";
            if (!allowed.Contains(key))
                throw Error(keyNode, path, $"unknown key; allowed here: {string.Join(", ", allowed)}");
            if (!result.TryAdd(key, value))
                throw Error(keyNode, path, "given twice");
        }
        return result;
    }

    private string Scalar(YamlNode node, string field) =>
        node is YamlScalarNode { Value: { } value } ? value : throw Error(node, field, "expected a single value, not a list or mapping");

    private string? NullableScalar(YamlNode node, string field) =>
        node is YamlScalarNode { Value: var v, Style: ScalarStyle.Plain } && (v is null or "" or "null" or "~") ? null : Scalar(node, field);

    private string RequiredString(Dictionary<string, YamlNode> map, string key, string field, YamlNode parent) =>
        map.TryGetValue(key, out var node) ? Scalar(node, Join(field, key)) : throw Error(parent, Join(field, key), "missing");

    private string? OptionalString(Dictionary<string, YamlNode> map, string key, string field) =>
        map.TryGetValue(key, out var node) ? Scalar(node, Join(field, key)) : null;

    private static string Join(string field, string key) => field.Length == 0 ? key : $"{field}.{key}";

    private IEnumerable<YamlNode> Sequence(YamlNode node, string field) =>
        node is YamlSequenceNode sequence ? sequence.Children : throw Error(node, field, "expected a list");

    private T Enum<T>(Dictionary<string, YamlNode> map, string key, string field, T fallback, params (string Name, T Value)[] choices)
    {
        if (!map.TryGetValue(key, out var node))
            return fallback;
        var text = Scalar(node, Join(field, key));
        foreach (var (name, value) in choices)
        {
            if (name == text)
                return value;
        }
        throw Error(node, Join(field, key), $"'{text}' is not allowed; use one of: {string.Join(", ", choices.Select(c => c.Name))}");
    }

    private int Integer(YamlNode node, string field, int min, int max)
    {
        var text = Scalar(node, field);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
            throw Error(node, field, $"'{text}' is not an integer from {min} to {max}");
        return value;
    }

    private double Number(YamlNode node, string field, double min, double max)
    {
        var text = Scalar(node, field).TrimEnd('/', 's');
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < min || value > max)
            throw Error(node, field, $"'{Scalar(node, field)}' is not a number from {min} to {max}");
        return value;
    }

    private bool Boolean(YamlNode node, string field) => Scalar(node, field) switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        var other => throw Error(node, field, $"'{other}' is not true or false"),
    };

    private TimeSpan Duration(YamlNode node, string field, TimeSpan? min = null, TimeSpan? max = null)
    {
        var text = Scalar(node, field);
        if (!Durations.TryParse(text, out var value))
            throw Error(node, field, $"'{text}' is not a duration: write a number and a unit, e.g. 250ms, 1.5s, 4min");
        if (min is { } lo && value < lo)
            throw Error(node, field, $"{text} is too short: at least {Durations.Format(lo)}");
        if (max is { } hi && value > hi)
            throw Error(node, field, $"{text} is too long: at most {Durations.Format(hi)}");
        return value;
    }

    private TimeSpan PositiveDuration(YamlNode node, string field) => Duration(node, field, TimeSpan.FromMilliseconds(1));

    private (TimeSpan? From, TimeSpan? Until) Range(YamlNode node, string field)
    {
        var text = Scalar(node, field);
        var parts = text.Split("..");
        if (parts.Length != 2)
            throw Error(node, field, $"'{text}' is not a range: write FROM..UNTIL, e.g. 1s..5s (either side may be empty)");
        TimeSpan? from = null, until = null;
        if (parts[0].Trim().Length > 0)
            from = Durations.TryParse(parts[0], out var f) ? f : throw Error(node, field, $"'{parts[0]}' is not a duration, e.g. 1s");
        if (parts[1].Trim().Length > 0)
            until = Durations.TryParse(parts[1], out var u) ? u : throw Error(node, field, $"'{parts[1]}' is not a duration, e.g. 5s");
        if (from is { } a && until is { } b && b < a)
            throw Error(node, field, $"'{text}': the end comes before the start");
        return (from, until);
    }
}
