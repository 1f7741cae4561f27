using Halfway.Analysis;
using Halfway.Reports;
using Halfway.Traffic;
using Halfway.Wire;

namespace Halfway.Runs;

/// <summary>One connection's verdict, as the report shows it.</summary>
public sealed record ConnectionVerdict(string Fate, bool HalfEstablished, string? Kind, List<EvidenceReport> Evidence, List<TimelineReport> Timeline);

/// <summary>
/// Feeds a run's measurements to the analysis engine as observations (packets from the link,
/// the client's calls, the server's accepts, socket-table samples) and keeps its verdicts.
/// </summary>
public sealed class ScenarioAnalysis
{
    private static readonly ConnectionVerdict Unclassified = new("unknown", false, null, [], []);
    private readonly Dictionary<int, ConnectionVerdict> _byConnection = new();

    public List<ConnectionVerdict> Connections { get; } = new();
    public List<string> Explanations { get; } = new();
    public List<string> Answers { get; } = new();

    public ConnectionVerdict ForConnection(ClientConnection connection) =>
        _byConnection.GetValueOrDefault(connection.Id) ?? Unclassified;

    /// <summary>The run's observations in time order, as the engine consumes them.</summary>
    public static List<Observation> Observations(ScenarioRun run)
    {
        var observations = new List<Observation>();
        long frame = 0;
        foreach (var packet in run.Packets)
        {
            frame++;
            if (TcpSegment.TryParseIp(packet.Bytes, out var segment))
            {
                observations.Add(new PacketObservation(packet.SeenAtMicroseconds, segment, frame,
                    packet.Action == Lab.LinkAction.Dropped, packet.DropReason,
                    packet.DeliveredAtMicroseconds >= 0 ? packet.DeliveredAtMicroseconds : null));
            }
        }
        foreach (var connection in run.Connections)
        {
            var client = connection.Local ?? default;
            foreach (var step in connection.Steps)
                observations.Add(new ClientCallObservation((long)(step.AtMs * 1000), client, connection.Server, step.Step, step.Result, step.Errno, step.Detail));
        }
        foreach (var accepted in run.ServerEvents.Where(e => e.Kind == "accepted"))
            observations.Add(new ServerAcceptObservation((long)(accepted.AtMs * 1000), accepted.Client, accepted.Local));
        observations.AddRange(run.ServerSockets);
        observations.Sort((a, b) => a.AtMicroseconds.CompareTo(b.AtMicroseconds));
        return observations;
    }

    public static ScenarioAnalysis Analyze(ScenarioRun run)
    {
        var analysis = new ScenarioAnalysis();
        var context = ContextOf(run);
        var reports = AnalysisEngine.Analyze(Observations(run), context)
            .GroupBy(r => (r.Client, r.Server))
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.FirstSeenAtMicroseconds).Last());
        var ours = new List<ConnectionReport>();
        foreach (var connection in run.Connections)
        {
            var verdict = Unclassified;
            if (connection.Local is { } local && reports.TryGetValue((local, connection.Server), out var report))
            {
                ours.Add(report);
                verdict = new ConnectionVerdict(
                    report.FateName,
                    report.HalfEstablished,
                    report.Kind,
                    report.Evidence.Select(e => new EvidenceReport(Math.Round(e.AtMicroseconds / 1000.0, 3), ColumnName(EventText.Column(e.Kind)), EventText.Sentence(e))).ToList(),
                    report.Timeline.Select(t => new TimelineReport(Math.Round(t.AtMicroseconds / 1000.0, 3), ColumnName(t.Column), t.Text)).ToList());
                analysis._representatives[connection.Id] = report;
            }
            analysis._byConnection[connection.Id] = verdict;
            analysis.Connections.Add(verdict);
        }
        foreach (var fate in ours.Select(r => r.Fate).Distinct().OrderBy(f => f))
        {
            var withFate = ours.Where(r => r.Fate == fate).ToList();
            var lines = FateExplainer.ExplainFate(fate, withFate, context);
            var diagram = SequenceDiagram.Render(FateExplainer.Representative(withFate));
            analysis.Explanations.Add(string.Join("\n", lines) + "\n" + diagram.TrimEnd());
        }
        if (run.Scenario.Name.StartsWith("seed-", StringComparison.Ordinal))
            analysis.Answers.AddRange(SeedAnswers.For(run, ours));
        return analysis;
    }

    private readonly Dictionary<int, ConnectionReport> _representatives = new();

    private static string ColumnName(TimelineColumn column) => column switch
    {
        TimelineColumn.Client => "client",
        TimelineColumn.WireToServer => "wire-to-server",
        TimelineColumn.WireToClient => "wire-to-client",
        _ => "server",
    };

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
            ServerSideObserved = run.ServerTableObserved,
            CounterDeltas = run.Counters.GetValueOrDefault("server") ?? run.Counters.GetValueOrDefault("host"),
            AcceptQueueLimit = run.ListenerSamples.Count > 0 ? (int)run.ListenerSamples[^1].AcceptQueueLimit : backlog,
        };
    }
}
