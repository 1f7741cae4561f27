using System.CommandLine;
using Halfway.Reports;
using Halfway.Runs;
using Halfway.Scenarios;

namespace Halfway.Cli.Commands;

/// <summary>`halfway run SCENARIO...`: runs scenarios concurrently, each in a lab of its own, and reports what happened.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var scenarios = new Argument<string[]>("scenario")
        {
            Description = "Built-in scenario names (`halfway scenarios`), the group `seed`, or scenario files (YAML)",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the report (the same as report.json) on stdout instead of the text report" };
        var output = new Option<string>("--output", "-o") { Description = "Folder under which the run folder is made", DefaultValueFactory = _ => "halfway-runs" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines" };
        var noKernelEvents = new Option<bool>("--no-kernel-events") { Description = "Do not load the kernel witness (BPF tracepoints on the server's namespace: drops with reasons, SYN-ACK re-sends, RSTs)" };
        var command = new Command("run", "Build a private lab, run the scenarios, and report every connection's steps, the server's accepts and the kernel's counters")
        {
            scenarios, json, output, quiet, noKernelEvents,
        };
        command.SetAction(CommandRunner.Guard(async (parse, token) =>
        {
            var list = ScenarioCatalog.Resolve(parse.GetValue(scenarios)!);
            string root = parse.GetValue(output)!;
            bool created = RunFolder.CheckRoot(root);
            try
            {
                ScenarioRunner.Preflight(list);
                // Interrupted before any lab ran: there is nothing to report, so no run folder either.
                token.ThrowIfCancellationRequested();
            }
            catch when (created)
            {
                RunFolder.RemoveIfUnused(root);
                throw;
            }
            var progress = new ProgressPrinter(list, parse.GetValue(quiet));
            // A signal stops the labs (the token), not this command: what was observed is still analysed and written.
            await using var announce = token.Register(() => Console.Error.WriteLine(
                $"\nhalfway: {CommandRunner.Interrupted?.Name ?? "interrupted"}: stopping the labs and writing what was observed so far ({CommandRunner.Interrupted?.Name ?? "a signal"} again to quit at once, without a report)"));
            var runs = await Task.WhenAll(list.Select(s => Task.Run(() => ScenarioRunner.RunAsync(s, progress.Report, token, kernelEvents: !parse.GetValue(noKernelEvents)), CancellationToken.None)));
            progress.Done();

            bool interrupted = runs.Any(r => r.Interrupted);
            var (report, reportJson) = await RunFolder.WriteAsync(runs, root, parse.GetValue(scenarios)!, CancellationToken.None,
                interrupted ? CommandRunner.Interrupted?.Name : null);
            Console.WriteLine(parse.GetValue(json) ? reportJson : TextReport.Render(report));
            if (!interrupted)
                return 0;
            Console.Error.WriteLine($"halfway: interrupted by {report.InterruptedBy ?? "a signal"}; the partial report and capture are in {report.RunFolder}");
            return CommandRunner.Interrupted?.ExitCode ?? 130;
        }));
        return command;
    }

    /// <summary>Live progress on stderr: one rewritten line on a terminal, a plain line every 5 s otherwise.</summary>
    private sealed class ProgressPrinter(IReadOnlyList<Scenario> scenarios, bool quiet)
    {
        private readonly Dictionary<string, RunProgress> _latest = new();
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private DateTime _lastPlain = DateTime.MinValue;

        public void Report(RunProgress progress)
        {
            if (quiet)
                return;
            lock (_latest)
            {
                _latest[progress.Scenario] = progress;
                string line = string.Join(" | ", scenarios.Where(s => _latest.ContainsKey(s.Name)).Select(s =>
                {
                    var p = _latest[s.Name];
                    if (p.Programs is { } programs)
                    {
                        string programBar = _terminal ? Bar((double)(programs.Copies - programs.Running) / Math.Max(1, programs.Copies)) + " " : "";
                        return $"{programBar}{p.Scenario} {p.ElapsedMs / 1000:0}s/{p.BoundMs / 1000:0}s client programs running {programs.Running}/{programs.Copies}, their connections {programs.Connections} ({programs.Established} established on the client) accepted {p.Accepted}";
                    }
                    string bar = _terminal ? Bar((double)p.Finished / Math.Max(1, p.Total)) + " " : "";
                    return $"{bar}{p.Scenario} {p.ElapsedMs / 1000:0}s/{p.BoundMs / 1000:0}s connected {p.Connected}/{p.Total} accepted {p.Accepted} done {p.Finished}";
                }));
                if (_terminal)
                {
                    int width = TerminalWidth();
                    Console.Error.Write("\r" + (line.Length > width ? line[..width] : line.PadRight(width)));
                }
                else if (DateTime.UtcNow - _lastPlain > TimeSpan.FromSeconds(5))
                {
                    _lastPlain = DateTime.UtcNow;
                    Console.Error.WriteLine(line);
                }
            }
        }

        private static int TerminalWidth()
        {
            try
            {
                return Console.WindowWidth > 40 ? Console.WindowWidth - 1 : 120;
            }
            catch (IOException)
            {
                return 120;
            }
        }

        private static string Bar(double fraction)
        {
            int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 10);
            return "[" + new string('#', filled) + new string('.', 10 - filled) + "]";
        }

        public void Done()
        {
            if (!quiet && _terminal && _latest.Count > 0)
                Console.Error.WriteLine();
        }
    }
}
