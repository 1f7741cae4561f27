using Halfway.Traffic;
using Halfway.Observe;

namespace Halfway.Runs;

/// <summary>
/// Checks that what a run report says in one place agrees with what it says in another: the client's step results, the
/// server application's accepts and each connection's fate. A lab run knows every socket it made, so any disagreement is
/// a defect of the tool, and the report says so rather than print two stories.
/// </summary>
internal static class RunConsistency
{
    /// <summary>Fates that say the client's connect() succeeded.</summary>
    private static readonly HashSet<string> ConnectedFates =
        ["accepted", "accepted-late", "queued", "reset-on-data", "reset-at-handshake", "stranded", "still-half-established", "client-aborted"];

    /// <summary>Fates that say the client's connect() did not succeed.</summary>
    private static readonly HashSet<string> NotConnectedFates = ["syn-dropped", "refused", "handshake-incomplete"];

    /// <summary>Every contradiction found, one sentence each; empty when the report agrees with itself.</summary>
    public static IReadOnlyList<string> Contradictions(ScenarioRun run, ScenarioAnalysis analysis)
    {
        var found = new List<string>();
        var accepted = run.Scenario.Server.Program is null
            ? run.ServerEvents.Where(e => e.Kind == ServerEventKind.Accepted).Select(e => e.Client).ToHashSet()
            : analysis.ProgramAccepts.Select(a => a.Client).ToHashSet();
        foreach (var connection in run.Connections)
        {
            var verdict = analysis.ForConnection(connection);
            string who = connection.Local?.ToString() ?? $"connection {connection.Id}";
            var connect = connection.Steps.FirstOrDefault(s => s.Index == 0);
            bool connectOk = connect?.Result == CallResult.Ok;
            // A RST that answers the final ACK can reach the client before the runtime reads connect()'s result.
            bool connectReset = connect?.Result == CallResult.Reset;
            if (connectOk != (connection.ConnectedAtMs is not null))
                found.Add($"{who}: the connect step says {connect?.Result.Name() ?? "nothing"} but the connection {(connection.ConnectedAtMs is null ? "has no" : "has a")} connect time");
            if (connect is null || connect.Result == CallResult.Cancelled)
                continue;
            // A program server's accept can be unknown (its socket left the table with no sign of one): said, not a defect.
            bool acceptUnknown = verdict.Record?.Facts.AcceptUnknownAt is not null;
            if (connectOk && (NotConnectedFates.Contains(verdict.Fate) || verdict.Fate == "unknown" && !acceptUnknown))
                found.Add($"{who}: connect() returned ok, yet its fate is {verdict.Fate}");
            if (!connectOk && !connectReset && (ConnectedFates.Contains(verdict.Fate) || verdict.HalfEstablished))
                found.Add($"{who}: connect() ended {connect.Result.Name()}, yet its fate is {verdict.Fate}{(verdict.HalfEstablished ? " (half-established)" : "")}");
            bool wasAccepted = connection.Local is { } local && accepted.Contains(local);
            if (wasAccepted && verdict.Fate is not ("accepted" or "accepted-late"))
                found.Add($"{who}: the server application accepted it, yet its fate is {verdict.Fate}");
            if (!wasAccepted && verdict.Fate is "accepted" or "accepted-late" && run.ServerTableObserved)
                found.Add($"{who}: its fate is {verdict.Fate}, but the server application never accepted it");
            if (connection.Steps.Any(s => s.Result == CallResult.Data) && !wasAccepted)
                found.Add($"{who}: it received data from the server application, which never accepted it");
        }
        int halfEstablished = analysis.Connections.Count(c => c.HalfEstablished);
        int connectedOrReset = run.Connections.Count(c => c.Steps.FirstOrDefault(s => s.Index == 0)?.Result is CallResult.Ok or CallResult.Reset);
        // A client program's calls are not seen: there is no connect() result to compare with.
        if (halfEstablished > connectedOrReset && run.Scenario.Clients.Program is null)
            found.Add($"{halfEstablished} connections are counted half-established but only {connectedOrReset} connect() calls returned (or were reset at the handshake)");
        if (analysis.Connections.Count != run.Connections.Count)
            found.Add($"{analysis.Connections.Count} fates for {run.Connections.Count} connections");
        return found;
    }
}
