using System.CommandLine;
using System.Diagnostics;
using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Reports;

namespace Halfway.Cli.Commands;

/// <summary>`halfway explain FILE...`: finds the half-established connections in capture files and explains each fate.</summary>
public static class ExplainCommand
{
    /// <summary>The input holds no TCP packet (before any --filter): there is nothing to explain.</summary>
    public const int NoTcpExitCode = 4;

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "pcap or pcapng files (gzip allowed, any extension), read in order as one observation; - reads standard input as a stream (tcpdump -w - | halfway explain -)", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "print the report as JSON (schema in docs/explain.md)" };
        var filter = new Option<string?>("--filter") { Description = "only packets to or from this port (8080), host (10.0.0.1) or both (10.0.0.1:8080)" };
        var all = new Option<bool>("--all") { Description = "list every connection, also the plainly accepted ones (JSON)" };
        var html = new Option<string?>("--html") { Description = "also write the report as one self-contained HTML page to this file (opens offline in any browser)" };
        var details = new Option<int>("--details") { Description = "half-established connections shown per listener in the text report", DefaultValueFactory = _ => 10 };
        var command = new Command("explain", "Find half-established TCP connections in capture files and explain each connection's fate with its evidence.\nExit codes: 0 every file read whole, 3 part of a file was damaged (report still printed), 4 no TCP packet in the input, 2 unusable input.")
        {
            files, json, filter, all, details, html,
        };
        command.SetAction(CommandRunner.Guard((parse, token) =>
        {
            var paths = parse.GetValue(files) ?? [];
            if (paths.FirstOrDefault(p => p.StartsWith('-') && p != CaptureReader.StandardInputName && !File.Exists(p)) is { } unknown)
                throw new HalfwayException($"unknown option '{unknown}'; `halfway explain --help` lists the options (a capture file whose name starts with '-' is given as ./{unknown})");
            if (paths.Count(p => p == CaptureReader.StandardInputName) > 1)
                throw new HalfwayException("'-' (standard input) can be given only once");
            if (parse.GetValue(html) is { } target && (Directory.Exists(target) || !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(target)))))
                throw new HalfwayException($"--html {target}: {(Directory.Exists(target) ? "is a folder" : "its folder does not exist")}; give a file name in an existing folder, e.g. --html report.html");
            var filterText = parse.GetValue(filter);
            var captureFilter = filterText is null ? null : CaptureFilter.Parse(filterText);
            var context = new AnalysisContext();
            var report = new ExplainReport(keepAll: parse.GetValue(all));
            var engine = new AnalysisEngine(context, report);
            var progress = Console.IsErrorRedirected ? null : new ProgressLine();
            CaptureReadSummary read;
            using (CollectionPause.Start())
            {
                try
                {
                    read = CaptureAnalysis.Feed(paths, engine, captureFilter, progress is null ? null : progress.Report, token);
                }
                finally
                {
                    progress?.Clear();
                }
            }
            engine.Finish();
            if (read.TcpPackets == 0 && read.FilteredOut == 0 && !read.Damaged)
            {
                // Nothing to explain: a report of zeros would read as "no problem here", which the capture cannot say.
                string what = read.Frames == 0 ? "no packets at all" : $"no TCP packets among its {read.Frames:N0} frames";
                throw new HalfwayException($"{string.Join(", ", paths.Select(p => p == CaptureReader.StandardInputName ? "standard input" : p))}: {what}; " +
                    "a capture filter may have left TCP out (capture again with one that keeps it, e.g. `tcpdump -i any -w FILE tcp port 8080`)", NoTcpExitCode);
            }
            var input = new ExplainInput(paths, read);
            if (parse.GetValue(html) is { } page)
                WriteHtml(page, input, report, context);
            if (parse.GetValue(json))
            {
                Console.Out.Flush();
                // Not through Console.Out when the process owns its standard output: the console's writer issues a
                // write() every 256 bytes, and a busy capture's report is tens of MB (110,000 calls, 0.5 s).
                using (var stdout = Program.OwnsStandardOutput ? new BufferedStream(Console.OpenStandardOutput(), 1 << 16) : (Stream)new TextWriterStream(Console.Out))
                {
                    ExplainJsonWriter.Write(stdout, input, report, context);
                    stdout.WriteByte((byte)'\n');
                }
            }
            else
                ExplainTextWriter.Write(Console.Out, input, report, context, parse.GetValue(details));
            Console.Out.Flush();
            if (read.Damaged)
            {
                Console.Error.WriteLine($"halfway: part of the input was damaged; everything before the damage was analysed ({read.Warnings.Count} warning(s))");
                return Task.FromResult(3);
            }
            return Task.FromResult(0);
        }));
        return command;
    }

    private static void WriteHtml(string path, ExplainInput input, ExplainReport report, AnalysisContext context)
    {
        try
        {
            File.WriteAllText(path, Reports.Html.ExplainHtml.Render(input, report, context));
            Console.Error.WriteLine($"halfway: wrote {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HalfwayException($"--html {path}: cannot write it ({e.Message.TrimEnd('.')}); give a file in a folder this user may write");
        }
    }

    /// <summary>A progress line on stderr for big files, only when stderr is a terminal.</summary>
    private sealed class ProgressLine
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _lastShownMs = -1000;
        private bool _shown;

        public void Report(string file, long position, long length)
        {
            if (_clock.ElapsedMilliseconds - _lastShownMs < 250 || _clock.ElapsedMilliseconds < 1000)
                return;
            _lastShownMs = _clock.ElapsedMilliseconds;
            string where = length > 0 ? $"{100.0 * position / length:0}% of {length / 1e6:0} MB" : $"{position / 1e6:0} MB";
            Console.Error.Write($"\r{Path.GetFileName(file)}: {where}   ");
            _shown = true;
        }

        public void Clear()
        {
            if (_shown)
                Console.Error.Write("\r" + new string(' ', 60) + "\r");
        }
    }
}
