using System.Globalization;
using System.Text;
using Halfway.Observe;

namespace Halfway.Reports;

/// <summary>The console view of a run's report: per scenario, what was set, what each step gave, what the server and the kernel did.</summary>
internal static class TextReport
{
    public static string Render(RunReport report)
    {
        var text = new StringBuilder();
        foreach (var scenario in report.Scenarios)
            RenderScenario(text, scenario);
        text.AppendLine($"run folder: {report.RunFolder} ({Html.RunHtml.FileName} to open in a browser, report.json, {ConnectionsCsv.FileName} one row per connection{(report.Scenarios.Any(s => s.Capture is not null) ? ", captures *.pcapng" : "")})");
        return text.ToString();
    }

    private static void KernelWitnessLines(StringBuilder text, KernelWitnessReport w)
    {
        if (!w.On)
        {
            // The warnings already carry the one line saying why; the run is complete without it.
            return;
        }
        // Keys are "LISTENER REASON"; one listener named once reads better than the same address before every reason.
        var drops = w.DropsByListenerAndReason
            .GroupBy(d => d.Key[..Math.Max(0, d.Key.LastIndexOf(' '))], d => $"{d.Key[(d.Key.LastIndexOf(' ') + 1)..]} {d.Value}")
            .Select(g => $"at {g.Key}: {string.Join(", ", g)}").ToList();
        text.AppendLine($"   server's kernel (tracepoints): {(drops.Count > 0 ? "drops " + string.Join("; ", drops) : "no drops")}; "
            + $"{w.SynAckResends} SYN-ACKs re-sent, {w.ResetsSent} RSTs sent, {w.ResetsReceived} received"
            + (w.Lost > 0 ? $"; {w.Lost} events LOST (ring buffer full)" : ""));
        foreach (var finding in w.Findings)
            text.AppendLine($"     {finding}");
    }

    private static string Ended(ProgramReport p) => p.EndedBy switch
    {
        "exited" when p.Role.StartsWith("client", StringComparison.Ordinal) => $"exited with code {p.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"} at {Plus(p.ExitedAtMs ?? 0)}",
        "exited" => $"exited by itself with code {p.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"} at {Plus(p.ExitedAtMs ?? 0)}, before the scenario ended",
        "SIGTERM" => $"ended by SIGTERM when the scenario ended (exit code {p.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"})",
        "SIGKILL" => "did not end on SIGTERM; killed (SIGKILL) after the grace",
        _ => "still running when the report was made",
    };

    private static void RenderScenario(StringBuilder text, ScenarioReport s)
    {
        int connected = s.Connections.Count(c => c.ConnectedAtMs is not null);
        text.AppendLine($"== {s.Name} ({s.Variant}) - {s.Connections.Count} connections to {s.Server}, {Seconds(s.DurationMs)}{(s.ReachedDurationBound ? " (stopped at the duration bound)" : "")}");
        if (s.Interrupted)
            text.AppendLine($"   INTERRUPTED at {Plus(s.InterruptedAtMs ?? s.DurationMs)}: the run was stopped early; steps still running were cancelled, and this report holds what was observed until then");
        if (s.Description.Length > 0)
            text.AppendLine($"   {s.Description}");
        text.AppendLine($"   server: backlog {s.Backlog}, {s.AcceptPolicy}" + (s.Link is { } link
            ? $"; link: {link.DelayClientToServerMs:0.###} ms / {link.DelayServerToClientMs:0.###} ms one way, {link.PacketsSeen} packets, {link.PacketsDropped} dropped by the link"
                + (link.PacketsInFlight > 0 ? $", {link.PacketsInFlight} still in flight when the lab stopped" : "")
            : "; single host (loopback)"));
        if (s.SettingsChanged.Count > 0)
        {
            text.AppendLine("   settings changed from this kernel's defaults:");
            foreach (var c in s.SettingsChanged)
                text.AppendLine($"     {c.Host}: {c.Name} = {c.Value} (default {c.Default})");
        }
        else
            text.AppendLine("   kernel settings: this kernel's defaults");
        foreach (var note in s.Notes)
            text.AppendLine($"   note: {note}");
        foreach (var warning in s.Warnings)
            text.AppendLine($"   warning: {warning}");
        var clientPrograms = s.Programs.Where(p => p.Role.StartsWith("client", StringComparison.Ordinal)).ToList();
        if (clientPrograms.Count > 3)
        {
            var codes = clientPrograms.GroupBy(p => p.EndedBy == "exited" ? $"exit {p.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}" : p.EndedBy ?? "running")
                .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}");
            text.AppendLine($"   client programs: {clientPrograms.Count} copies, {string.Join(", ", codes)}; their output: {clientPrograms[0].Stdout.Replace(".client-0.", ".client-N.", StringComparison.Ordinal)} and .stderr.txt");
        }
        foreach (var program in s.Programs.Where(p => clientPrograms.Count <= 3 || !clientPrograms.Contains(p)))
            text.AppendLine($"   {program.Role} program (pid {program.Pid}): {Ended(program)}; its output: {program.Stdout}, {program.Stderr}{(program.OutputCut ? " (cut at 1 MiB)" : "")}");
        foreach (var unknown in s.Unknowns)
            text.AppendLine($"   how known: {unknown}");
        text.AppendLine();

        bool programClients = s.Programs.Any(p => p.Role.StartsWith("client", StringComparison.Ordinal));
        bool callsKnown = !programClients || s.StepSummary.Count > 0;
        if (callsKnown)
        {
            if (programClients)
                text.AppendLine("   calls as your program logged them (halfway-call lines; times are when halfway read them):");
            var rows = new List<string[]> { new[] { "step", "result", "errno", "count", "first", "last" } };
            foreach (var step in s.StepSummary)
                rows.Add([$"{step.Index + 1}. {step.Step}", step.Result, step.Errno ?? "-", step.Count.ToString(CultureInfo.InvariantCulture), Plus(step.FirstMs), Plus(step.LastMs)]);
            Table(text, rows);
            text.AppendLine();
        }

        var server = s.ServerSide;
        int openAtEnd = s.Connections.Count(c => c.OpenAtEnd);
        if (programClients && !callsKnown)
            text.AppendLine($"   client: your program's copies opened {s.Connections.Count} connections (SYNs on the wire); what their calls returned is in their own output, not known here");
        else if (programClients)
            text.AppendLine($"   client: your program's copies opened {s.Connections.Count} connections (SYNs on the wire); {connected} connect() calls returned success by their own log");
        else
            text.AppendLine($"   client: {connected} of {s.Connections.Count} connect() calls returned success" +
                (openAtEnd > 0 ? $"; {openAtEnd} still open when the run ended (their fates are as of that moment)" : ""));
        if (!programClients && ConnectLatency(s) is { } latency)
            text.AppendLine($"   {latency}");
        text.AppendLine($"   server application: accepted {server.Accepted} of {s.Connections.Count}" +
            (server.FirstAcceptMs is { } first ? $" (first {Plus(first)}, last {Plus(server.LastAcceptMs ?? first)})" : "") +
            (s.Programs.Any(p => p.Role == "server")
                ? " (inferred from the kernel, see how known); what your program received and sent is in its own output"
                : $"; {server.MessagesReceived} messages received, {server.RepliesSent} replies sent, {server.Resets} resets seen"));
        if (server.SocketTableObserved && server.AcceptQueueLimit is { } limit)
        {
            text.AppendLine($"   server socket table: accept queue at most {server.MaxAcceptQueue} (limit {limit}: it holds limit + 1); at most {server.MaxSynRecv} request sockets in SYN-RECV" +
                (server.Sampling is { } sampling ? $" ({sampling.Samples} samples, every {sampling.BusyIntervalMs:0} ms while busy, {sampling.IdleIntervalMs:0} ms otherwise)" : ""));
            foreach (var missed in server.Sampling?.NotSeen ?? [])
                text.AppendLine($"     not seen by the samples: {missed}");
        }
        int halfEstablished = s.Connections.Count(c => c.HalfEstablished);
        if (s.Fates.Count > 0)
            text.AppendLine($"   fates: {string.Join(", ", s.Fates.OrderByDescending(f => f.Value).Select(f => $"{f.Key} {f.Value}"))}; half-established at some moment: {halfEstablished}");
        var counters = CounterCatalogue.Headline.Select(c => c.Name).Where(s.Counters.ContainsKey).Select(n => $"{CounterCatalogue.ShortName(n)} +{s.Counters[n]}").ToList();
        text.AppendLine($"   kernel counters on the server host: {(counters.Count > 0 ? string.Join(", ", counters) : "none of the headline counters moved")}"
            + (s.Counters.ContainsKey("TcpExtListenOverflows") ? " (ListenOverflows counts SYNs dropped by a full accept queue as well as final ACKs)" : ""));
        if (s.KernelWitness is { } witness)
            KernelWitnessLines(text, witness);
        var halfFates = s.Connections.Where(c => c.HalfEstablished).Select(c => c.Fate).ToHashSet(StringComparer.Ordinal);
        foreach (var explanation in s.Explanations)
        {
            // The console keeps the diagrams of the fates this tool is about; the others are in report.html.
            string fate = explanation[..Math.Max(0, explanation.IndexOf(" — ", StringComparison.Ordinal))];
            int diagram = explanation.IndexOf(DiagramHeader, StringComparison.Ordinal);
            string shown = halfFates.Contains(fate) || diagram < 0
                ? explanation
                : explanation[..explanation.LastIndexOf('\n', diagram)] + $"\n(its sequence diagram: {Html.RunHtml.FileName})";
            text.AppendLine().Append("   ").AppendLine(shown.Replace("\n", "\n   "));
        }
        if (s.Answers.Count > 0)
        {
            text.AppendLine().AppendLine("   The seed's questions, answered from this run:");
            foreach (var answer in s.Answers)
                text.Append("   - ").AppendLine(answer);
        }
        if (s.Remedies.Count > 0)
        {
            text.AppendLine().AppendLine("   What to change, from this run's evidence:");
            foreach (var remedy in s.Remedies)
                text.AppendLine($"   - {remedy.Side} ({string.Join(", ", remedy.Fates)}): {remedy.Change} Cost: {remedy.Cost}");
        }
        text.AppendLine();
    }

    /// <summary>How long the connect() calls that succeeded took, and how many of them waited for the client kernel to re-send its SYN.</summary>
    public static string? ConnectLatency(ScenarioReport s)
    {
        var ok = s.Connections.Where(c => c.Steps.Count > 0 && c.Steps[0].Result == "ok").ToList();
        if (ok.Count == 0)
            return null;
        var durations = ok.Select(c => c.Steps[0].DurationMs).Order().ToArray();
        int waited = ok.Count(c => c.SynResends > 0);
        return $"connect() that returned ok ({ok.Count}): p50 {Seconds(Percentile(durations, 0.5))}, p90 {Seconds(Percentile(durations, 0.9))}, max {Seconds(durations[^1])}; "
            + (waited == 0 ? "none waited for a re-sent SYN" : $"{waited} waited for re-sent SYNs (the first re-send comes after 1 s)");
    }

    /// <summary>Nearest rank: a value that was measured, never an interpolation.</summary>
    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static void Table(StringBuilder text, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            text.Append("   ").AppendLine(string.Join("  ", row.Select((cell, i) => i >= 3 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>How <see cref="Analysis.SequenceDiagram"/> starts its header line (after the time column's padding).</summary>
    private const string DiagramHeader = "time client ";

    public static string Plus(double ms) => "+" + Seconds(ms);

    public static string Seconds(double ms) => ms < 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.000} s")
        : string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.0#} s");
}
