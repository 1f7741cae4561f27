using Halfway.Analysis;
using Halfway.Traffic;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Runs;

/// <summary>
/// Feeds a run's measurements to the analysis engine as observations (packets from the link,
/// the client's calls, the server's accepts, socket-table samples) and keeps its verdicts.
/// </summary>
internal sealed class ScenarioAnalysis
{
    private static readonly ConnectionVerdict Unclassified = new("unknown", false, null, null);
    private readonly Dictionary<int, ConnectionVerdict> _byConnection = new();

    public List<ConnectionVerdict> Connections { get; } = new();
    public List<string> Explanations { get; } = new();
    public List<string> Answers { get; } = new();
    /// <summary>Where the report would disagree with itself (<see cref="RunConsistency"/>): empty unless the tool has a defect.</summary>
    public List<string> Contradictions { get; } = new();
    /// <summary>What the server's kernel said (null when its witness did not run).</summary>
    public KernelTestimony? Kernel { get; private set; }

    public ConnectionVerdict ForConnection(ClientConnection connection) =>
        _byConnection.GetValueOrDefault(connection.Id) ?? Unclassified;

    /// <summary>A program server's accepts, inferred from the kernel once per run (empty for the built-in server, which reports its own).</summary>
    public IReadOnlyList<ServerAcceptObservation> ProgramAccepts { get; private set; } = [];
    /// <summary>A program server's connections whose accept cannot be known (see <see cref="AcceptsUnknownOf"/>).</summary>
    public IReadOnlyList<ServerAcceptUnknownObservation> AcceptsUnknown { get; private set; } = [];

    /// <summary>The run's observations in time order, as the engine consumes them.</summary>
    private List<Observation> Observations(ScenarioRun run)
    {
        var observations = new List<Observation>();
        foreach (var (packet, segment, frame) in run.Segments)
        {
            observations.Add(new PacketObservation(packet.SeenAtMicroseconds, segment, frame,
                packet.Action == Lab.LinkAction.Dropped,
                packet.Action == Lab.LinkAction.InFlight ? "still in flight when the lab stopped (never delivered)" : packet.DropReason,
                packet.DeliveredAtMicroseconds >= 0 ? packet.DeliveredAtMicroseconds : null));
        }
        foreach (var connection in run.Connections)
        {
            var client = connection.Local ?? default;
            foreach (var step in connection.Steps)
                observations.Add(new ClientCallObservation((long)(step.AtMs * 1000), client, connection.Server, step.Step, step.Result, step.Errno, step.Detail));
        }
        foreach (var accepted in run.ServerEvents.Where(e => e.Kind == ServerEventKind.Accepted))
            observations.Add(new ServerAcceptObservation((long)(accepted.AtMs * 1000), accepted.Client, accepted.Local));
        if (run.Scenario.Server.Program is not null)
        {
            ProgramAccepts = InferredAccepts(run).ToList();
            AcceptsUnknown = AcceptsUnknownOf(run, ProgramAccepts.Select(a => a.Client).ToHashSet()).ToList();
            observations.AddRange(ProgramAccepts);
            observations.AddRange(AcceptsUnknown);
        }
        observations.AddRange(run.ServerSockets);
        observations.AddRange(AfterFinalAckInServerTable(run));
        observations.AddRange(run.KernelEvents);
        // Stable: at the same microsecond the packet comes before the call it let return (the kernel sends the final ACK,
        // then connect() returns); an unstable sort put them either way round, and the ACK's evidence with them.
        return observations.OrderBy(o => o.AtMicroseconds).ToList();
    }

    /// <summary>
    /// A program server does not tell us its accepts; the kernel does. A socket gets an inode only when accept() gives it
    /// a file, so the first sample that shows one bounds the accept from above; and data or a FIN from the server means the
    /// application wrote to or closed a socket it had accepted (a child still queued is reset, not closed, when its listener goes).
    /// So does a RST that carries an ACK, sent after the SYN-ACK while the program still ran and before the last look at
    /// its table: only a full socket resets that way (a request socket or a forgotten connection answers an ACK with a
    /// bare RST without one), and the kernel resets a child still queued only when its listener closes — this one is the
    /// application closing what it had accepted with unread data or SO_LINGER 0 (nginx does when it runs out of
    /// worker_connections). Each connection's earliest sign is its accept time.
    /// </summary>
    public static IEnumerable<ServerAcceptObservation> InferredAccepts(ScenarioRun run)
    {
        var earliest = new Dictionary<(IpEndpoint Client, IpEndpoint Server), long>();
        void Note(IpEndpoint client, IpEndpoint server, long at)
        {
            if (!earliest.TryGetValue((client, server), out long known) || at < known)
                earliest[(client, server)] = at;
        }
        foreach (var owned in run.SocketsOwned)
            Note(owned.Client, owned.Server, owned.AtMicroseconds);
        long listenerSure = ListenerSureUntil(run);
        var synAckSent = new HashSet<(IpEndpoint, IpEndpoint)>();
        foreach (var (packet, segment, _) in run.Segments)
        {
            if (packet.Direction != Lab.LinkDirection.ServerToClient)
                continue;
            if (segment.Has(TcpFlags.Syn))
            {
                if (segment.Has(TcpFlags.Ack))
                    synAckSent.Add((segment.Destination, segment.Source));
            }
            else if (segment.Has(TcpFlags.Rst))
            {
                if (segment.Has(TcpFlags.Ack) && packet.SeenAtMicroseconds < listenerSure && synAckSent.Contains((segment.Destination, segment.Source)))
                    Note(segment.Destination, segment.Source, packet.SeenAtMicroseconds);
            }
            else if (segment.Has(TcpFlags.Fin) || segment.PayloadLength > 0)
                Note(segment.Destination, segment.Source, packet.SeenAtMicroseconds);
        }
        return earliest.Select(kv => new ServerAcceptObservation(kv.Value, kv.Key.Client, kv.Key.Server));
    }

    /// <summary>
    /// A program server's connections whose complete socket left the table between two samples with no sign of an accept
    /// (no inode, no data, FIN or RST from the server): the client reset it, or the application took and dropped it within
    /// one sample. At the first sample that missed it.
    /// </summary>
    private static IEnumerable<ServerAcceptUnknownObservation> AcceptsUnknownOf(ScenarioRun run, HashSet<IpEndpoint> accepted)
    {
        foreach (var history in run.ServerSockets.GroupBy(s => (s.Client, s.Server)))
        {
            var states = history.OrderBy(s => s.AtMicroseconds).ToList();
            if (accepted.Contains(history.Key.Client) || states[^1].State is not null
                || !states.Any(s => s.State is TcpState.Established or TcpState.CloseWait))
                continue;
            yield return new ServerAcceptUnknownObservation(states[^1].AtMicroseconds, history.Key.Client, history.Key.Server);
        }
    }

    /// <summary>
    /// Until when the server program surely still listened: its exit, or the last look at its table (taken while it was
    /// frozen, before it was ended: ending it resets the children still queued).
    /// </summary>
    private static long ListenerSureUntil(ScenarioRun run)
    {
        long until = run.ServerTableSampleTimes.Count > 0 ? run.ServerTableSampleTimes[^1] : long.MaxValue;
        if (run.Programs.FirstOrDefault(p => p.Role == "server") is { ExitedByItself: true, ExitedAtMs: { } exited })
            until = Math.Min(until, (long)(exited * 1000));
        return until;
    }

    /// <summary>
    /// What the first socket-table sample after a connection's final ACK reached the server (20 ms earlier, so the
    /// kernel had processed it) showed, when the sampler, which reports changes only, did not say it then:
    /// nothing, before any sign that the server completed it (a syncookie connection leaves no other trace on the
    /// server); or the request socket that an earlier sample had shown, still in SYN-RECV (the ACK was dropped, as on
    /// a full accept queue, and the request waits silently for a re-sent SYN-ACK or the client's data).
    /// </summary>
    private static IEnumerable<ServerSocketObservation> AfterFinalAckInServerTable(ScenarioRun run)
    {
        if (!run.ServerTableObserved || run.ServerTableSampleTimes.Count == 0)
            yield break;
        const long ProcessingMargin = 20_000;
        var inTable = run.ServerSockets.GroupBy(s => s.Client).ToDictionary(g => g.Key, g => g.OrderBy(s => s.AtMicroseconds).ToList());
        var accepted = run.ServerEvents.Where(e => e.Kind == ServerEventKind.Accepted).GroupBy(e => e.Client).ToDictionary(g => g.Key, g => (long)(g.Min(e => e.AtMs) * 1000));
        var ackArrived = new Dictionary<IpEndpoint, long>();
        var serverAnswered = new Dictionary<IpEndpoint, long>();
        foreach (var (packet, segment, _) in run.Segments)
        {
            // The handshake's end reached the server: its final ACK, or data that rode on it when that ACK was not sent alone.
            if (packet.Direction == Lab.LinkDirection.ClientToServer && packet.Action == Lab.LinkAction.Passed
                && (FinalHandshakeAck.Is(segment, clientIsn: null, serverIsn: null) || (segment.Has(TcpFlags.Ack) && !segment.Has(TcpFlags.Syn) && segment.PayloadLength > 0))
                && !ackArrived.ContainsKey(segment.Source))
                ackArrived[segment.Source] = packet.DeliveredAtMicroseconds;
            else if (packet.Direction == Lab.LinkDirection.ServerToClient && !segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Rst)
                && !serverAnswered.ContainsKey(segment.Destination))
                serverAnswered[segment.Destination] = packet.SeenAtMicroseconds;
        }
        var samples = run.ServerTableSampleTimes;
        foreach (var connection in run.Connections)
        {
            if (connection.Local is not { } client || !ackArrived.TryGetValue(client, out long arrived))
                continue;
            int index = samples.BinarySearch(arrived + ProcessingMargin);
            if (index < 0)
                index = ~index;
            if (index >= samples.Count)
                continue;
            long sample = samples[index];
            var states = inTable.GetValueOrDefault(client);
            var shown = states?.LastOrDefault(s => s.AtMicroseconds <= sample);
            if (shown is null)
            {
                long before = Math.Min(states?[0].AtMicroseconds ?? long.MaxValue,
                    Math.Min(accepted.GetValueOrDefault(client, long.MaxValue), serverAnswered.GetValueOrDefault(client, long.MaxValue)));
                if (sample < before)
                    yield return new ServerSocketObservation(sample, client, connection.Server, null, 0);
            }
            else if (shown.State is TcpState.SynRecv && shown.AtMicroseconds < sample)
                yield return shown with { AtMicroseconds = sample };
        }
    }

    public static ScenarioAnalysis Analyze(ScenarioRun run)
    {
        var analysis = new ScenarioAnalysis();
        var context = ContextOf(run);
        var reports = AnalysisEngine.Analyze(analysis.Observations(run), context)
            .GroupBy(r => (r.Client, r.Server))
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.FirstSeenAtMicroseconds).ToList());
        var ours = new List<ConnectionReport>();
        foreach (var connection in run.Connections)
        {
            var verdict = Unclassified;
            if (connection.Local is { } local && reports.TryGetValue((local, connection.Server), out var records)
                && RecordOf(connection, records) is { } report)
            {
                ours.Add(report);
                verdict = new ConnectionVerdict(report.FateName, report.HalfEstablished, report.Kind, report);
            }
            analysis._byConnection[connection.Id] = verdict;
            analysis.Connections.Add(verdict);
        }
        analysis.Kernel = KernelTestimony.Of(run, id => analysis._byConnection.GetValueOrDefault(id) ?? Unclassified);
        foreach (var fate in ours.Select(r => r.Fate).Distinct().OrderBy(f => f))
        {
            var withFate = ours.Where(r => r.Fate == fate).ToList();
            var lines = FateExplainer.ExplainFate(fate, withFate, context).ToList();
            if (analysis.Kernel is { } kernel && KernelLine(kernel, withFate) is { } said)
                lines.Add(said);
            var diagram = SequenceDiagram.Render(FateExplainer.Representative(withFate));
            analysis.Explanations.Add(string.Join("\n", lines) + "\n" + diagram.TrimEnd());
        }
        if (run.Scenario.AnswersSeed)
            analysis.Answers.AddRange(SeedAnswers.For(run, ours, analysis.Kernel));
        analysis.Contradictions.AddRange(RunConsistency.Contradictions(run, analysis));
        return analysis;
    }


    /// <summary>How many of a fate's connections the server's kernel says it dropped the final ACK of, and why.</summary>
    private static string? KernelLine(KernelTestimony kernel, List<ConnectionReport> withFate)
    {
        var drops = withFate.Select(r => KernelTestimony.FirstAckDrop(kernel.ByClient.GetValueOrDefault(r.Client) ?? [])).OfType<KernelEventObservation>().ToList();
        if (drops.Count == 0)
            return null;
        var reasons = drops.GroupBy(d => d.Reason ?? "no reason").OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
        var first = drops.MinBy(d => d.AtMicroseconds)!;
        return $"The server's kernel says: it dropped the final ACK of {drops.Count} of these {withFate.Count} connection(s) ({string.Join(", ", reasons)}); "
            + KernelTestimony.Says(first, 1).Replace("the server's kernel dropped the final ACK", "the first", StringComparison.Ordinal) + ".";
    }

    /// <summary>
    /// The record of this connection among those of its 4-tuple: the engine keeps one record per connection in a lab run,
    /// and a second one only when a later socket took the same port (its SYN started a new record). This connection's is
    /// the last one that began before its connect() ended.
    /// </summary>
    private static ConnectionReport? RecordOf(ClientConnection connection, List<ConnectionReport> records)
    {
        if (connection.Steps.Count == 0)
            return records[^1];
        long connectEnded = (long)(connection.Steps[0].AtMs * 1000);
        return records.LastOrDefault(r => r.FirstSeenAtMicroseconds <= connectEnded) ?? records[0];
    }


    /// <summary>What the engine needs to know about the lab: when observation ended, what the server side showed, the counters.</summary>
    public static AnalysisContext ContextOf(ScenarioRun run)
    {
        var settings = run.Settings.GetValueOrDefault("server") ?? run.Settings.GetValueOrDefault("host");
        int backlog = run.Scenario.Server.Backlog;
        if (settings is not null && settings.TryGetValue("net.core.somaxconn", out var somaxconn) && int.TryParse(somaxconn, out int max))
            backlog = Math.Min(backlog, max);
        return new AnalysisContext
        {
            EndMicroseconds = (long)(run.DurationMs * 1000),
            // A client program's sockets are not ours: like a capture's, their lifetimes are read from the wire.
            ConnectionLifetimesKnown = run.Scenario.Clients.Program is null,
            ServerSideObserved = run.ServerTableObserved,
            AcceptQueueLimit = run.AcceptQueueSamples.Count > 0 ? (int)run.AcceptQueueSamples[^1].AcceptQueueLimit : backlog,
        };
    }
}
