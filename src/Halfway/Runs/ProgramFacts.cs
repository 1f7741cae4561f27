using System.Globalization;
using Halfway.Observe;

namespace Halfway.Runs;

/// <summary>
/// What a run with the user's programs knows only indirectly, and what it does not know: said in the report rather than
/// guessed, because a program does not tell halfway what its calls returned.
/// </summary>
internal static class ProgramFacts
{
    public static List<string> Unknowns(ScenarioRun run, ScenarioAnalysis analysis)
    {
        var lines = new List<string>();
        if (run.Scenario.Server.Program is not null)
        {
            var times = run.ServerTableSampleTimes;
            double widest = 0;
            for (int i = 1; i < times.Count; i++)
                widest = Math.Max(widest, (times[i] - times[i - 1]) / 1000.0);
            lines.Add($"accept(): your server program does not report its accepts; they are read from the server's socket table, where a connection's socket gets an inode only when accept() gives it a file. An accept time is the first of {times.Count} samples that showed the inode (or the server's FIN, if earlier): the real accept() came after the sample before, at most {widest.ToString("0", CultureInfo.InvariantCulture)} ms earlier in this run.");
            var unknown = analysis.AcceptsUnknown.Select(u => (int)u.Client.Port).Order().ToList();
            if (unknown.Count > 0)
                lines.Add($"accept() unknown for {unknown.Count} connection(s) (client ports {string.Join(", ", unknown.Take(10))}{(unknown.Count > 10 ? ", ..." : "")}): their complete socket left the server's table between two samples without showing an inode and without data, a FIN or a RST from the server (the client reset it, or the application took it and dropped it within one sample); their fate is 'unknown' unless another sign decided it.");
        }
        if (run.Scenario.Clients.Program is not null)
        {
            int logged = run.Connections.Count(c => c.Steps.Count > 0);
            if (run.ClientCallLines == 0)
                lines.Add("your client program's calls are not known (what connect(), send() and recv() returned, and when): its connections are found on the wire (one per client port that sent a SYN), their steps are left empty, and 'connect() returned' in an explanation means the client's final handshake ACK left it. A program can say what its calls returned with halfway-call lines on its stdout (docs/programs.md).");
            else
                lines.Add($"your client program's calls are known as it logged them: {run.ClientCallLines} halfway-call lines on {logged} of {run.Connections.Count} connections (found on the wire, one per client port that sent a SYN). Each call's time is when halfway read its line, at or after the call returned; their durations are unknown{(logged < run.Connections.Count ? "; the connections with no line have no steps" : "")}.");
            var established = run.ClientSockets.Where(s => s.State == TcpState.Established).Select(s => s.Client).ToHashSet();
            int half = run.Connections.Count(c => c.Local is { } l && established.Contains(l) && analysis.ForConnection(c).HalfEstablished);
            lines.Add($"the client host's socket table, sampled every 50 ms while the copies ran, showed {established.Count} of {run.Connections.Count} connections ESTABLISHED on the client side (the client kernel's view: connect() could return), {half} of them half-established (client_socket in report.json has each one's states).");
        }
        return lines;
    }
}
