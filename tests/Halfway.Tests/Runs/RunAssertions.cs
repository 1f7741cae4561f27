using Halfway.Lab;
using Halfway.Runs;
using Halfway.Traffic;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Tests.Runs;

/// <summary>Independent evidence from a run, to check the clients' results against: packets and server events.</summary>
internal static class RunAssertions
{
    public static List<TcpSegment> SegmentsTo(ScenarioRun run, IpEndpoint client, bool delivered = true) =>
        run.Segments
            .Where(s => (!delivered || s.Packet.Action == LinkAction.Passed) && s.Segment.Destination == client)
            .Select(s => s.Segment)
            .ToList();

    public static bool ServerReset(ScenarioRun run, IpEndpoint client) =>
        SegmentsTo(run, client).Any(s => s.Has(TcpFlags.Rst));

    public static bool ServerReplied(ScenarioRun run, IpEndpoint client) =>
        run.ServerEvents.Any(e => e.Kind == ServerEventKind.Replied && e.Client == client);

    public static double? AcceptedAt(ScenarioRun run, IpEndpoint client) =>
        run.ServerEvents.Where(e => e.Kind == ServerEventKind.Accepted && e.Client == client).Select(e => (double?)e.AtMs).FirstOrDefault();

    public static StepResult? Step(ClientConnection connection, ClientStep step) => connection.Steps.FirstOrDefault(s => s.Step == step);

    /// <summary>Runs a scenario file as `halfway run FILE` does (its programs' paths are relative to the file's folder).</summary>
    public static Task<ScenarioRun> RunScenarioFileAsync(string path) => RunScenarioAsync(File.ReadAllText(path), path);

    /// <summary>Parses a scenario, checks it as `halfway run` does, and runs it in a lab of its own.</summary>
    public static async Task<ScenarioRun> RunScenarioAsync(string yaml, string source = "test.yaml")
    {
        var scenario = Halfway.Scenarios.ScenarioParser.Parse(yaml, source);
        ScenarioRunner.Preflight([scenario]);
        return await ScenarioRunner.RunAsync(scenario, null, CancellationToken.None);
    }
}
