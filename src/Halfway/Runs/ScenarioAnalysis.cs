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
        foreach (var connection in run.Connections)
        {
            analysis._byConnection[connection.Id] = Unclassified;
            analysis.Connections.Add(Unclassified);
        }
        return analysis;
    }
}
