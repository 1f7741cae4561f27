using System.Diagnostics;
using Halfway.Lab;
using Halfway.Observe;
using Halfway.Scenarios;
using Halfway.Traffic;

namespace Halfway.Runs;

/// <summary>
/// The user's programs in a run: checked before any lab starts, a server program started in the server host and waited
/// for (bounded) until it listens, and ended with its whole process group when the scenario ends.
/// </summary>
internal static class ProgramRuns
{
    /// <summary>A missing executable or folder is a scenario error, found before a lab is built.</summary>
    public static void Check(Scenario scenario)
    {
        foreach (var spec in new[] { scenario.Server.Program, scenario.Clients.Program })
        {
            if (spec is not null && ProgramProcess.Resolve(spec, ProgramProcess.WorkDirOf(spec, scenario.Source), out string problem) is null)
                throw new ScenarioException(scenario.Source, spec.Line, spec.Field, problem);
        }
    }

    /// <summary>Null for the built-in server. Otherwise the program, listening on the scenario's port; a one-line error when it does not.</summary>
    public static ProgramProcess? StartServer(LabHost host, Scenario scenario, LabClock clock, ScenarioRun run)
    {
        if (scenario.Server.Program is not { } spec)
            return null;
        var program = ProgramProcess.Start(host, spec, "server", scenario.Source, clock);
        try
        {
            AwaitListener(host, program, spec, scenario);
            run.Programs.Add(program);
            return program;
        }
        catch
        {
            program.Dispose();
            throw;
        }
    }

    private static void AwaitListener(LabHost host, ProgramProcess program, ProgramSpec spec, Scenario scenario)
    {
        ushort port = (ushort)scenario.Server.Port;
        using var table = host.Run(() => new SocketTable());
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (table.Read([TcpState.Listen], [port]).Any(r => r.Local.Port == port))
                return;
            if (program.HasExited)
            {
                program.Stop();
                throw new ScenarioException(scenario.Source, spec.Line, spec.Field,
                    $"the program exited with code {program.ExitCode?.ToString() ?? "?"} before it listened on port {port}{Said(program)}; run it by hand to see why");
            }
            if (clock.Elapsed >= spec.ReadyTimeout)
            {
                var others = table.Read([TcpState.Listen]).Select(r => (int)r.Local.Port).Distinct().Order().ToList();
                string where = others.Count == 0 ? "it listens on no TCP port" : $"it listens on {string.Join(", ", others)}";
                throw new ScenarioException(scenario.Source, spec.Line, spec.Field,
                    $"the program did not listen on port {port} within {Durations.Format(spec.ReadyTimeout)} ({where}){Said(program)}; set server.port to the port it listens on, or raise server.ready_timeout");
            }
            Thread.Sleep(20);
        }
    }

    private static string Said(ProgramProcess program) => program.LastErrorLine() is { Length: > 0 } line ? $"; its last line: {line}" : "";

    /// <summary>Records once that the program ended before the scenario: connections after that meet no listener.</summary>
    public static void NoteEarlyExit(ProgramProcess? program, ScenarioRun run)
    {
        if (program is null || !program.HasExited || run.Warnings.Any(w => w.StartsWith(EarlyExit, StringComparison.Ordinal)))
            return;
        run.Warnings.Add($"{EarlyExit} at {program.ExitedAtMs?.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) ?? "?"} ms, before the scenario ended: later connections found no listener (its output is in the run folder)");
    }

    private const string EarlyExit = "the server program exited by itself";

    /// <summary>Ends the program and its group and records how it ended.</summary>
    public static void Finish(ProgramProcess? program, ScenarioRun run)
    {
        if (program is null)
            return;
        NoteEarlyExit(program, run);
        program.Stop();
    }

    /// <summary>
    /// Runs the client program <c>clients.count</c> times at once in the client host, with HALFWAY_SERVER and HALFWAY_PORT
    /// (and HALFWAY_CLIENT, its index) in its environment, until every copy exits or the run's bound fires; then ends
    /// each copy's process group.
    /// </summary>
    public static async Task RunClientsAsync(LabHost host, Scenario scenario, System.Net.IPEndPoint server, LabClock clock, ScenarioRun run, CancellationToken bound)
    {
        var spec = scenario.Clients.Program!;
        var programs = new List<ProgramProcess>();
        try
        {
            for (int i = 0; i < scenario.Clients.Count; i++)
            {
                var environment = new Dictionary<string, string>
                {
                    ["HALFWAY_SERVER"] = server.Address.ToString(),
                    ["HALFWAY_PORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["HALFWAY_CLIENT"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                programs.Add(ProgramProcess.Start(host, spec, $"client-{i}", scenario.Source, clock, environment));
            }
            using var table = host.Run(() => new SocketTable());
            var last = new Dictionary<Wire.IpEndpoint, TcpState>();
            var serverEnd = Wire.IpEndpoint.From(server);
            while (!programs.All(p => p.HasExited) && !bound.IsCancellationRequested)
            {
                run.ClientProgress.Running = programs.Count(p => !p.HasExited);
                SampleClients(table, serverEnd, last, clock, run);
                await Task.Delay(50, CancellationToken.None);
            }
            SampleClients(table, serverEnd, last, clock, run);
            run.ClientProgress.Running = programs.Count(p => !p.HasExited);
        }
        finally
        {
            // Each copy has its own grace: end them side by side, not one grace after another.
            await Task.WhenAll(programs.Select(p => Task.Run(p.Stop)));
            run.Programs.AddRange(programs);
        }
    }

    private static readonly TcpState[] ClientStates =
    [
        TcpState.SynSent, TcpState.Established, TcpState.FinWait1, TcpState.FinWait2, TcpState.CloseWait,
        TcpState.LastAck, TcpState.Closing, TcpState.TimeWait,
    ];

    /// <summary>
    /// One look at the client host's table: the program's sockets to the server, recorded when their state changes. It
    /// is the client kernel's view (SYN-SENT while connect() waits, ESTABLISHED once it may return), not the program's calls.
    /// </summary>
    private static void SampleClients(SocketTable table, Wire.IpEndpoint server, Dictionary<Wire.IpEndpoint, TcpState> last, LabClock clock, ScenarioRun run)
    {
        long now = clock.NowMicroseconds;
        var seen = new HashSet<Wire.IpEndpoint>();
        foreach (var record in table.Read(ClientStates))
        {
            if (record.Remote != server)
                continue;
            seen.Add(record.Local);
            if (!last.TryGetValue(record.Local, out var state) || state != record.State)
            {
                last[record.Local] = record.State;
                run.ClientSockets.Add(new ClientSocketSample(now, record.Local, record.State));
                run.ClientProgress.Saw(record.Local, record.State == TcpState.Established);
            }
        }
        foreach (var gone in last.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            last.Remove(gone);
            run.ClientSockets.Add(new ClientSocketSample(now, gone, null));
        }
    }

    /// <summary>
    /// A client program's connections, as the wire shows them: one per client port that sent a SYN to the server, in the
    /// order of their first SYN. Their steps are the calls the program logged (<see cref="ProgramProcess.CallLinePrefix"/>
    /// lines); a program that logs none leaves them unknown and the steps empty.
    /// </summary>
    public static List<ClientConnection> ConnectionsFromWire(ScenarioRun run, System.Net.IPEndPoint server)
    {
        var serverEnd = Wire.IpEndpoint.From(server);
        var seen = new HashSet<Wire.IpEndpoint>();
        var connections = new List<ClientConnection>();
        foreach (var (packet, segment, _) in run.Segments)
        {
            if (segment.Destination == serverEnd && segment.Has(Wire.TcpFlags.Syn) && !segment.Has(Wire.TcpFlags.Ack) && seen.Add(segment.Source))
                connections.Add(new ClientConnection(connections.Count, serverEnd) { Local = segment.Source, Finished = true });
        }
        AttachLoggedCalls(run, connections);
        return connections;
    }

    /// <summary>
    /// "halfway-call port=41234 call=send result=ok [errno=EPIPE]": one call of the program's, on the connection from that
    /// local port, stamped when halfway read the line (at or after the call returned). A line that does not parse, or names
    /// a port with no SYN on the wire, is counted in a warning rather than guessed at.
    /// </summary>
    private static void AttachLoggedCalls(ScenarioRun run, List<ClientConnection> connections)
    {
        var byPort = new Dictionary<int, ClientConnection>();
        foreach (var connection in connections)
            byPort.TryAdd(connection.Local!.Value.Port, connection);
        int unreadable = 0, unmatched = 0;
        string? firstUnreadable = null;
        var lines = run.Programs.Where(p => p.Role.StartsWith("client", StringComparison.Ordinal))
            .SelectMany(p => p.CallLines).OrderBy(l => l.AtMs).ToList();
        foreach (var line in lines)
        {
            if (ParseCall(line.Text) is not { } call)
            {
                unreadable++;
                firstUnreadable ??= line.Text;
                continue;
            }
            if (!byPort.TryGetValue(call.Port, out var connection))
            {
                unmatched++;
                continue;
            }
            if (call.Step == ClientStep.Connect && call.Result == CallResult.Ok)
                connection.ConnectedAtMs ??= line.AtMs;
            connection.Steps.Add(new StepResult(connection.Steps.Count, call.Step, call.Result, call.Errno, line.AtMs, 0, call.Detail, null));
        }
        run.ClientCallLines = lines.Count - unreadable - unmatched;
        if (unreadable > 0)
            run.Warnings.Add($"{unreadable} halfway-call line(s) of the client program could not be read, e.g. \"{Cut(firstUnreadable!)}\": write \"halfway-call port=PORT call=connect|send|receive|close|shutdown|wait result=ok|data|eof|reset|timeout|refused|error [errno=NAME]\" (docs/programs.md)");
        if (unmatched > 0)
            run.Warnings.Add($"{unmatched} halfway-call line(s) named a local port that sent no SYN to the server: left out");
    }

    private static string Cut(string text) => text.Length > 120 ? text[..120] + "..." : text;

    internal readonly record struct LoggedCall(int Port, ClientStep Step, CallResult Result, string? Errno, string? Detail);

    internal static LoggedCall? ParseCall(string line)
    {
        if (!line.StartsWith(ProgramProcess.CallLinePrefix, StringComparison.Ordinal))
            return null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        // detail= is last and runs to the end of the line: it may hold spaces (an Erlang term, a message).
        string rest = " " + line[ProgramProcess.CallLinePrefix.Length..];
        int detailAt = rest.IndexOf(" detail=", StringComparison.Ordinal);
        if (detailAt >= 0)
        {
            fields["detail"] = rest[(detailAt + " detail=".Length)..];
            rest = rest[..detailAt];
        }
        foreach (var token in rest.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = token.IndexOf('=');
            if (equals <= 0 || !fields.TryAdd(token[..equals], token[(equals + 1)..]))
                return null;
        }
        if (!fields.TryGetValue("port", out var portText) || !int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            return null;
        ClientStep? step = fields.GetValueOrDefault("call") switch
        {
            "connect" => ClientStep.Connect, "send" => ClientStep.Send, "receive" or "recv" => ClientStep.Receive,
            "close" => ClientStep.Close, "shutdown" => ClientStep.Shutdown, "wait" => ClientStep.Wait, _ => null,
        };
        CallResult? result = fields.GetValueOrDefault("result") switch
        {
            "ok" => CallResult.Ok, "data" => CallResult.Data, "eof" => CallResult.Eof, "reset" => CallResult.Reset,
            "timeout" => CallResult.Timeout, "refused" => CallResult.Refused, "error" => CallResult.Error, _ => null,
        };
        if (step is null || result is null || fields.Keys.Any(k => k is not ("port" or "call" or "result" or "errno" or "detail")))
            return null;
        return new LoggedCall(port, step.Value, result.Value, fields.GetValueOrDefault("errno"), fields.GetValueOrDefault("detail"));
    }
}
