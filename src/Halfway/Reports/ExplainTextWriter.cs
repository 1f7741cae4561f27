using System.Globalization;
using Halfway.Analysis;

namespace Halfway.Reports;

/// <summary>The console form of `halfway explain`: per listener, fates, causes, limits; then each fate explained with one diagram.</summary>
internal static class ExplainTextWriter
{
    public static void Write(TextWriter output, ExplainInput input, ExplainReport report, AnalysisContext context, int maxDetails = 10, int maxListeners = 20)
    {
        var read = input.Read;
        var inv = CultureInfo.InvariantCulture;
        if (read is not null)
        {
            string duration = read.FirstTimestampMicroseconds is { } f && read.LastTimestampMicroseconds is { } l ? $", {TimeText.Duration(l - f)} of traffic" : "";
            output.WriteLine(string.Create(inv, $"Read {input.Files.Count} file(s): {read.Frames:N0} frames, {read.TcpPackets:N0} TCP packets analysed{duration}."));
        }
        output.WriteLine(string.Create(inv, $"{report.Connections:N0} connections, {report.HalfEstablished:N0} half-established."));
        if (report.VantagePoint() is { } vantage)
            output.WriteLine($"Capture point: {vantage}.");
        output.WriteLine();

        // The kept connections (tens of thousands on a busy capture) are sorted out by fate and by listener in one pass:
        // a pass over them per listener and two per fate, each reading every report's verdict, took ~1 ms each.
        var byFate = new SortedDictionary<Fate, List<ConnectionReport>>();
        var halvesByServer = new Dictionary<Wire.IpEndpoint, List<ConnectionReport>>();
        foreach (var c in report.Kept)
        {
            if (!byFate.TryGetValue(c.Fate, out var sameFate))
                byFate[c.Fate] = sameFate = [];
            sameFate.Add(c);
            if (c.HalfEstablished)
            {
                if (!halvesByServer.TryGetValue(c.Server, out var sameServer))
                    halvesByServer[c.Server] = sameServer = [];
                sameServer.Add(c);
            }
        }

        var listeners = report.Listeners.ToList();
        foreach (var listener in listeners.Take(maxListeners))
        {
            string confidences = listener.HalfEstablished == 0 ? "" : string.Create(inv, $" ({listener.Certain:N0} certain, {listener.Likely:N0} likely)");
            output.WriteLine(string.Create(inv, $"Listener {listener.Server}: {listener.Connections:N0} connection(s), {listener.HalfEstablished:N0} half-established{confidences}"));
            output.WriteLine("  " + string.Join(", ", listener.ByFate.Select(x => string.Create(inv, $"{FateNames.Name(x.Fate)} {x.Count:N0}"))));
            var causes = report.LikelyCauses(listener);
            if (causes.Count > 0)
            {
                output.WriteLine("  Causes, ranked by what this capture supports:");
                foreach (var cause in causes)
                    output.WriteLine($"  - [{cause.SupportName}] {cause.Name}: {cause.Evidence}. To confirm on the server: {cause.Confirm}.");
            }
            var halves = halvesByServer.GetValueOrDefault(listener.Server) ?? [];
            if (halves.Count > 0)
            {
                output.WriteLine($"  Half-established connections{(halves.Count > maxDetails ? $" (first {maxDetails} of {halves.Count}; --json lists all)" : "")}:");
                foreach (var connection in halves.Take(maxDetails))
                    WriteConnection(output, connection, "    ");
            }
            output.WriteLine();
        }

        if (listeners.Count > maxListeners)
        {
            var rest = listeners.Skip(maxListeners).ToList();
            output.WriteLine(string.Create(inv, $"{rest.Count:N0} more listeners ({rest.Sum(l => l.Connections):N0} connections, {rest.Sum(l => l.HalfEstablished):N0} half-established): --json lists them all."));
            output.WriteLine();
        }

        if (report.HalfEstablished > 0)
        {
            output.WriteLine("What one capture point cannot tell:");
            foreach (var limit in report.Limits())
                output.WriteLine("- " + limit);
            output.WriteLine();
        }

        foreach (var (fate, withFate) in byFate)
        {
            var lines = FateExplainer.ExplainFate(fate, withFate, context);
            foreach (var line in lines)
                output.WriteLine(line);
            var representative = FateExplainer.Representative(withFate);
            output.WriteLine();
            output.Write(Indent(SequenceDiagram.Render(representative), "  "));
            output.WriteLine();
        }

        if (report.NotKept > 0)
            output.WriteLine(string.Create(inv, $"({report.NotKept:N0} more connections were counted but not kept for details.)"));
        if (read is { Warnings.Count: > 0 })
        {
            output.WriteLine("Warnings:");
            foreach (var warning in read.Warnings)
                output.WriteLine($"- {warning}");
        }
    }

    public static void WriteConnection(TextWriter output, ConnectionReport connection, string indent)
    {
        output.WriteLine($"{indent}{connection.Client} -> {connection.Server}  {connection.FateName}{(connection.Kind is { } kind ? $"  ({kind})" : "")}"
            + (connection.Confidence is { } confidence ? $"  {confidence.Name}: {confidence.Reason}" : ""));
        long origin = connection.Evidence.Count > 0 ? connection.Evidence[0].AtMicroseconds : connection.FirstSeenAtMicroseconds;
        foreach (var e in connection.Evidence)
            output.WriteLine($"{indent}  {TimeText.Offset(e.AtMicroseconds, origin),10}  {EventText.Sentence(e)}");
    }

    private static string Indent(string text, string indent) =>
        string.Concat(text.Split('\n').Select(line => line.Length == 0 ? "\n" : indent + line + "\n")).TrimEnd('\n') + "\n";
}
