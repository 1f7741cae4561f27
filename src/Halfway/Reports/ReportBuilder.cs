using Halfway.Analysis;
using System.Runtime.InteropServices;
using Halfway.Observe;
using Halfway.Runs;
using Halfway.Traffic;
using Halfway.Wire;

namespace Halfway.Reports;

/// <summary>Turns what a run measured into the report: every figure comes from the run, nothing else.</summary>
internal static class ReportBuilder
{
    public static RunReport Build(IReadOnlyList<ScenarioRun> runs, IReadOnlyList<ScenarioAnalysis> analyses, string runFolder, IReadOnlyList<string?> captures) => new()
    {
        StartedAt = runs.Count > 0 ? runs.Min(r => r.StartedAt).ToString("O") : DateTimeOffset.UtcNow.ToString("O"),
        Kernel = KernelRelease(),
        RunFolder = runFolder,
        Scenarios = runs.Select((run, i) => BuildScenario(run, analyses[i], captures[i])).Select(s => s with { Remedies = RunRemedies.For(s) }).ToList(),
    };

    private static ScenarioReport BuildScenario(ScenarioRun run, ScenarioAnalysis analysis, string? capture)
    {
        var scenario = run.Scenario;
        var accepts = scenario.Server.Program is null
            ? run.ServerEvents.Where(e => e.Kind == ServerEventKind.Accepted).ToList()
            : analysis.ProgramAccepts.Select(a => new ServerEvent(ServerEventKind.Accepted, a.Client, a.Server, a.AtMicroseconds / 1000.0, 0)).ToList();
        var acceptedAt = accepts.GroupBy(e => e.Client).ToDictionary(g => g.Key, g => g.Min(e => e.AtMs));
        var serverCounters = run.Counters.GetValueOrDefault("server") ?? run.Counters.GetValueOrDefault("host") ?? new();
        return new ScenarioReport
        {
            Name = scenario.Name,
            Variant = scenario.Variant,
            Description = scenario.Description,
            Source = scenario.Source,
            Topology = scenario.Topology.ToString().ToLowerInvariant(),
            Server = run.ServerAddress,
            DurationMs = Math.Round(run.DurationMs, 1),
            ReachedDurationBound = run.ReachedBound,
            Interrupted = run.Interrupted,
            InterruptedAtMs = run.InterruptedAtMs,
            AcceptPolicy = scenario.Server.Program is { } program ? $"your program: {string.Join(' ', program.Command)}" : scenario.Server.Accept.ToString(),
            // A program's backlog is its own: the limit the kernel reported for its listener (min(backlog, somaxconn)).
            Backlog = scenario.Server.Program is null ? scenario.Server.Backlog : run.AcceptQueueSamples.Count > 0 ? (int)run.AcceptQueueSamples[^1].AcceptQueueLimit : 0,
            Programs = run.Programs.Select(p => new ProgramReport(p.Role, p.Command.ToList(), p.Pid, p.StartedAtMs, p.ExitedAtMs, p.EndedBy, p.ExitCode,
                p.ExitedByItself, RunFolder.ProgramOutputName(run, p, "stdout"), RunFolder.ProgramOutputName(run, p, "stderr"), p.OutputCut)).ToList(),
            Unknowns = ProgramFacts.Unknowns(run, analysis),
            Settings = run.Settings,
            SettingsChanged = run.Changed.Select(c => new ChangedSettingReport(c.Host, c.Name, c.Default, c.Value)).ToList(),
            Counters = NonZero(serverCounters),
            CountersByHost = run.Counters.ToDictionary(kv => kv.Key, kv => NonZero(kv.Value)),
            CountersOverTime = run.CounterSamples
                .Select(sample => new CounterSampleReport(sample.AtMs, new SortedDictionary<string, long>(
                    sample.SinceStart.Where(kv => CounterCatalogue.IsHeadline(kv.Key) && serverCounters.GetValueOrDefault(kv.Key) != 0).ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal)))
                .ToList(),
            Link = scenario.Topology == Lab.Topology.Pair
                ? new LinkReport(scenario.Link.ClientToServer.Delay.TotalMilliseconds, scenario.Link.ServerToClient.Delay.TotalMilliseconds,
                    scenario.Link.ClientToServer.Loss, run.LinkPacketsSeen, run.LinkPacketsDropped, run.LinkPacketsInFlight, scenario.Link.DropRules.Select(r => r.Name).ToList())
                : null,
            ServerOverTime = ServerOverTime(run.AcceptQueueSamples),
            ServerSide = new ServerReport(
                accepts.Count,
                accepts.Count > 0 ? Math.Round(accepts.Min(e => e.AtMs), 1) : null,
                accepts.Count > 0 ? Math.Round(accepts.Max(e => e.AtMs), 1) : null,
                run.ServerEvents.Count(e => e.Kind == ServerEventKind.Received),
                run.ServerEvents.Count(e => e.Kind == ServerEventKind.Replied),
                run.ServerEvents.Count(e => e.Kind == ServerEventKind.Reset),
                run.AcceptQueueSamples.Count > 0 ? run.AcceptQueueSamples.Max(s => s.AcceptQueue) : null,
                run.AcceptQueueSamples.Count > 0 ? run.AcceptQueueSamples[^1].AcceptQueueLimit : null,
                run.AcceptQueueSamples.Count > 0 ? run.AcceptQueueSamples.Max(s => s.SynRecv) : null,
                run.ServerTableObserved) { Sampling = Sampling(run, serverCounters) },
            StepSummary = Summarize(run.Connections),
            Fates = new SortedDictionary<string, int>(analysis.Connections.GroupBy(c => c.Fate).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal),
            Explanations = analysis.Explanations,
            Answers = analysis.Answers,
            Notes = scenario.Notes.ToList(),
            Warnings = run.Warnings.Concat(analysis.Contradictions.Count == 0 ? [] : [
                $"this report contradicts itself ({analysis.Contradictions.Count}; a defect of halfway): " + string.Join("; ", analysis.Contradictions.Take(5))
                + (analysis.Contradictions.Count > 5 ? $"; and {analysis.Contradictions.Count - 5} more" : "")]).ToList(),
            Capture = capture,
            Connections = run.Connections.Select(c =>
            {
                var verdict = analysis.ForConnection(c);
                var events = verdict.Record?.Events ?? [];
                var firstRst = events.FirstOrDefault(IsRst);
                return new RunConnectionReport
                {
                    Id = c.Id,
                    Client = c.Local?.ToString(),
                    Server = c.Server.ToString(),
                    ConnectedAtMs = Round(c.ConnectedAtMs),
                    AcceptedAtMs = c.Local is { } local && acceptedAt.TryGetValue(local, out var at) ? Math.Round(at, 3) : null,
                    Steps = c.Steps.Select(s => new StepReport(s.Step.Name(), s.Result.Name(), s.Errno, Math.Round(s.AtMs, 3), Math.Round(s.DurationMs, 3), s.Detail,
                        s.Info is { } info ? new TcpInfoReport(info.State, info.Retransmits, info.Probes, info.Backoff, info.RtoMicroseconds / 1000.0,
                            info.Unacked, info.RttMicroseconds / 1000.0, info.TotalRetransmissions) : null)).ToList(),
                    Fate = verdict.Fate,
                    HalfEstablished = verdict.HalfEstablished,
                    Kind = verdict.Kind,
                    Evidence = EvidenceRows(verdict.Evidence, verdict.Timeline),
                    Timeline = verdict.Timeline.Select(t => new TimelineReport(Math.Round(t.AtMicroseconds / 1000.0, 3), ColumnName(t.Column), t.Text)).ToList(),
                    ServerCompletedAtMs = verdict.Record?.ServerCompletedAtMicroseconds is { } completed ? Math.Round(completed / 1000.0, 3) : null,
                    SynResends = events.Count(e => e.Kind == ConnectionEventKind.ClientSynRetransmitted),
                    FirstRstAtMs = IsRst(firstRst) ? Math.Round(firstRst.AtMicroseconds / 1000.0, 3) : null,
                    FirstRstFrom = IsRst(firstRst) ? (firstRst.Kind == ConnectionEventKind.ClientRst ? "client" : "server") : null,
                    ClientSocket = scenario.Clients.Program is null ? null : run.ClientSockets.Where(x => x.Client == c.Local)
                        .Select(x => new ClientSocketReport(Math.Round(x.AtMicroseconds / 1000.0, 1), x.State is { } st ? TcpStateNames.Of(st) : "gone")).ToList(),
                    OpenAtEnd = c.Steps.FirstOrDefault(s => s.Index == 0)?.Result is CallResult.Ok && !c.Steps.Any(s => s.Step == ClientStep.Close && s.Result == CallResult.Ok),
                    Kernel = c.Local is { } client && analysis.Kernel?.ByClient.GetValueOrDefault(client) is { } said ? ConnectionKernel(said) : null,
                };
            }).ToList(),
            KernelWitness = analysis.Kernel is { } kernel
                ? new KernelWitnessReport(true, null, run.KernelEvents.Count, run.KernelEventsLost, kernel.DropsByListenerAndReason,
                    kernel.SynAckResends, kernel.ResetsSent, kernel.ResetsReceived, kernel.Findings)
                : new KernelWitnessReport(false, run.KernelWitnessMissing, 0, 0, new(StringComparer.Ordinal), 0, 0, 0, []),
        };
    }

    private static ConnectionKernelReport ConnectionKernel(List<KernelEventObservation> said)
    {
        var first = KernelTestimony.FirstAckDrop(said);
        int ackDrops = said.Count(KernelTestimony.IsHandshakeAckDrop);
        return new ConnectionKernelReport(ackDrops,
            first is null ? null : Math.Round(first.AtMicroseconds / 1000.0, 3), first?.Reason, first?.Listener?.AcceptQueueLength, first?.Listener?.AcceptQueueLimit,
            said.Count(e => e.Kind == KernelEventKind.PacketDropped) - ackDrops,
            said.Count(e => e.Kind == KernelEventKind.SynAckRetransmitted),
            said.Count(e => e.Kind == KernelEventKind.ResetSent),
            said.Count(e => e.Kind == KernelEventKind.ResetReceived),
            first is null ? null : KernelTestimony.Says(first, ackDrops));
    }

    /// <summary>A RST from either side: the server's bare RST, its RST|ACK (refusal, abort), or the client's.</summary>
    public static bool IsRst(ConnectionEvent e) => e.Kind switch
    {
        ConnectionEventKind.ServerBareRst or ConnectionEventKind.ServerRefused or ConnectionEventKind.ClientRst => true,
        // The tracker keeps the segment's flags in the upper half of the value for a complete socket's segments.
        ConnectionEventKind.ServerCompleteSocket => (((TcpFlags)(e.Value >> 32)) & TcpFlags.Rst) != 0,
        _ => false,
    };

    /// <summary>The samples where something changed (and the first and last): a sample equal to the one before adds nothing.</summary>
    private static ServerOverTimeReport? ServerOverTime(IReadOnlyList<AcceptQueueSample> samples)
    {
        if (samples.Count == 0)
            return null;
        var kept = samples.Where((q, i) => i == 0 || i == samples.Count - 1
            || (q.AcceptQueue, q.SynRecv, q.Drops) != (samples[i - 1].AcceptQueue, samples[i - 1].SynRecv, samples[i - 1].Drops)).ToList();
        return new ServerOverTimeReport(kept.Select(q => Math.Round(q.AtMs, 1)).ToList(), kept.Select(q => q.AcceptQueue).ToList(),
            kept.Select(q => q.SynRecv).ToList(), kept.Select(q => q.Drops).ToList(), samples[^1].AcceptQueueLimit);
    }

    private static SocketTableSamplingReport? Sampling(ScenarioRun run, Dictionary<string, long> counters)
    {
        if (!run.ServerTableObserved)
            return null;
        var notSeen = new List<string>();
        var samples = run.AcceptQueueSamples;
        long overflows = counters.GetValueOrDefault("TcpExtListenOverflows");
        if (overflows > 0 && samples.Count > 0 && samples.All(s => s.AcceptQueue <= s.AcceptQueueLimit))
            notSeen.Add($"ListenOverflows rose by {overflows}, so the accept queue was full (limit {samples[^1].AcceptQueueLimit} + 1) at some moment, but no sample saw it full (at most {samples.Max(s => s.AcceptQueue)}): it filled and drained between two samples");
        long requestQueueFull = counters.GetValueOrDefault("TcpExtTCPReqQFullDoCookies") + counters.GetValueOrDefault("TcpExtTCPReqQFullDrop");
        int backlog = samples.Count > 0 ? (int)samples[^1].AcceptQueueLimit : run.Scenario.Server.Backlog;
        if (requestQueueFull > 0 && samples.Count > 0 && samples.Max(s => s.SynRecv) < backlog)
            notSeen.Add($"the request queue was full (it is at {backlog} request sockets) {requestQueueFull} times by the counters (TCPReqQFullDoCookies, TCPReqQFullDrop), but no sample saw more than {samples.Max(s => s.SynRecv)} in SYN-RECV: the request sockets came and went between two samples");
        return new SocketTableSamplingReport(run.ServerTableSampleTimes.Count, ServerTableSampler.IdleInterval.TotalMilliseconds,
            ServerTableSampler.BusyInterval.TotalMilliseconds, Math.Round(run.ServerTableSamplingTime.TotalMilliseconds, 1), notSeen);
    }

    public static List<StepSummary> Summarize(IReadOnlyList<ClientConnection> connections) =>
        connections.SelectMany(c => c.Steps)
            .GroupBy(s => (s.Index, s.Step, s.Result, s.Errno))
            .OrderBy(g => g.Key.Index).ThenByDescending(g => g.Count())
            .Select(g => new StepSummary(g.Key.Index, g.Key.Step.Name(), g.Key.Result.Name(), g.Key.Errno, g.Count(),
                Math.Round(g.Min(s => s.AtMs), 1), Math.Round(g.Max(s => s.AtMs), 1)))
            .ToList();

    public static string ColumnName(TimelineColumn column) => column switch
    {
        TimelineColumn.Client => TimelineReport.Client,
        TimelineColumn.WireToServer => TimelineReport.WireToServer,
        TimelineColumn.WireToClient => TimelineReport.WireToClient,
        _ => TimelineReport.Server,
    };

    /// <summary>
    /// Each evidence event's row in the timeline: the timeline is built from the same events, so the row has the same
    /// time and column; where the lab's own words replaced an event (a client call), the nearest row of that column.
    /// </summary>
    internal static List<int> EvidenceRows(IReadOnlyList<ConnectionEvent> evidence, IReadOnlyList<TimelineEntry> timeline)
    {
        var rows = new List<int>(evidence.Count);
        var used = new HashSet<int>();
        foreach (var e in evidence)
        {
            var column = EventText.Column(e.Kind);
            int best = -1;
            long bestDistance = long.MaxValue;
            for (int i = 0; i < timeline.Count; i++)
            {
                if (timeline[i].Column != column)
                    continue;
                long distance = Math.Abs(timeline[i].AtMicroseconds - e.AtMicroseconds) + (used.Contains(i) ? 1 : 0);
                if (distance < bestDistance)
                    (best, bestDistance) = (i, distance);
            }
            if (best >= 0 && used.Add(best))
                rows.Add(best);
        }
        rows.Sort();
        return rows;
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;

    private static SortedDictionary<string, long> NonZero(Dictionary<string, long> counters) =>
        new(counters.Where(kv => kv.Value != 0).ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);

    private static string KernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.OSDescription;
        }
    }
}
