using System.Globalization;
using System.Text.Json;
using Halfway.Tests.Support;

namespace Halfway.Tests.Runs;

/// <summary>
/// Runs `halfway run seed --json` as a real process and checks every connection's fate against evidence the
/// tool did not produce: tshark's reading of the run's capture, and the run's own socket calls and accepts.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class FateEvidenceTests
{
    [LabFact]
    public void Every_fate_of_the_seed_run_agrees_with_tshark_and_the_socket_calls()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"halfway-test-{Guid.NewGuid():N}");
        try
        {
            var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(90), "run", "seed", "--json", "--quiet", "--output", folder);
            Assert.True(exitCode == 0, $"halfway run seed failed ({exitCode}): {stderr}");
            using var report = JsonDocument.Parse(stdout);
            Assert.Equal("halfway.run/2", report.RootElement.GetProperty("schema").GetString());
            string runFolder = report.RootElement.GetProperty("run_folder").GetString()!;
            var fatesSeen = new HashSet<string>();
            foreach (var scenario in report.RootElement.GetProperty("scenarios").EnumerateArray())
            {
                string capture = Path.Combine(runFolder, scenario.GetProperty("capture").GetString()!);
                var wire = TsharkView.Read(capture);
                var fromFile = ExplainFates(capture);
                // The capture holds every packet the link saw.
                Assert.Equal(scenario.GetProperty("link").GetProperty("packets_seen").GetInt64(), wire.Packets);
                foreach (var connection in scenario.GetProperty("connections").EnumerateArray())
                {
                    string fate = connection.GetProperty("fate").GetString()!;
                    fatesSeen.Add(fate);
                    string? client = connection.GetProperty("client").GetString();
                    Assert.NotNull(client);
                    int port = int.Parse(client![(client.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
                    var flow = wire.Flows.GetValueOrDefault(port) ?? new TsharkView.Flow();
                    var results = connection.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("result").GetString()).ToList();
                    bool connected = connection.GetProperty("connected_at_ms").ValueKind != JsonValueKind.Null;
                    bool accepted = connection.GetProperty("accepted_at_ms").ValueKind != JsonValueKind.Null;
                    bool half = connection.GetProperty("half_established").GetBoolean();
                    string? kind = connection.GetProperty("kind").GetString();
                    string where = $"{scenario.GetProperty("name").GetString()} {client} ({fate})";

                    if (half)
                        Assert.True(connected, $"{where}: half-established but connect() never returned");
                    // The evidence points into the connection's own timeline, at rows that exist.
                    int rows = connection.GetProperty("timeline").GetArrayLength();
                    var evidence = connection.GetProperty("evidence").EnumerateArray().Select(e => e.GetInt32()).ToList();
                    Assert.True(evidence.Count > 0 && evidence.All(e => e >= 0 && e < rows), $"{where}: evidence rows {string.Join(",", evidence)} of {rows}");
                    // The first RST the report names is one tshark saw from that side: none when tshark saw none from the server.
                    string? rstFrom = connection.GetProperty("first_rst_from").GetString();
                    if (flow.RstsFromServer == 0)
                        Assert.True(rstFrom != "server", $"{where}: the report's first RST is the server's, tshark saw none");
                    if (fate == "reset-on-data")
                        Assert.True(rstFrom == "server" && flow.RstsFromServer > 0, $"{where}: reset-on-data without the server's RST (report: {rstFrom ?? "none"}, tshark: {flow.RstsFromServer})");
                    // `explain` reads the same capture with packets alone: where packets can tell, it must agree.
                    string? explained = fromFile.GetValueOrDefault(client);
                    if (fate is "syn-dropped" or "reset-on-data" or "reset-at-handshake" or "refused"
                        || (fate == "accepted-late" && flow.SynAckRetransmissions >= 1))
                        Assert.True(explained == fate, $"{where}: explain on the capture says {explained ?? "nothing"}");
                    if (explained is "reset-on-data" or "syn-dropped" or "reset-at-handshake")
                        Assert.True(explained == fate, $"{where}: explain says {explained} from packets alone");
                    if (kind == "syncookie")
                        Assert.True(flow.SynAckRetransmissions == 0, $"{where}: a syncookie connection, yet tshark saw its SYN-ACK re-sent");
                    switch (fate)
                    {
                        case "syn-dropped":
                            Assert.False(connected, where);
                            Assert.True(flow.SynAcks == 0, $"{where}: tshark saw {flow.SynAcks} SYN-ACKs");
                            Assert.True(flow.Syns >= 1, where);
                            break;
                        case "reset-on-data" or "reset-at-handshake":
                            Assert.True(flow.RstsFromServer >= 1, $"{where}: tshark saw no RST from the server");
                            Assert.True(results.Contains("reset"), $"{where}: no call failed with a reset ({string.Join(", ", results)})");
                            Assert.False(accepted, where);
                            break;
                        case "accepted" or "accepted-late":
                            Assert.True(accepted, $"{where}: the application never accepted it");
                            // (A RST from the server may still come later: our server closes every socket when the run ends.)
                            Assert.False(results.Contains("reset"), $"{where}: a call failed with a reset ({string.Join(", ", results)})");
                            Assert.True((fate == "accepted-late") == half, $"{where}: half_established is {half}");
                            break;
                        case "queued":
                            Assert.False(accepted, where);
                            break;
                        case "stranded" or "still-half-established":
                            Assert.True(half, where);
                            Assert.False(accepted, where);
                            break;
                        default:
                            Assert.Fail($"{where}: a lab run should decide every fate (got {fate})");
                            break;
                    }
                }
            }
            AssertCsvHoldsTheReportsConnections(report.RootElement, Path.Combine(runFolder, "connections.csv"));
            AssertEveryHalfEstablishedFateHasARemedy(report.RootElement);
            Halfway.Tests.Reports.HtmlReportChecks.AssertDrawsTheReport(Path.Combine(runFolder, "report.html"), report.RootElement);
            // The seed's run shows, side by side, connections that were accepted, half-established ones, and dropped SYNs.
            Assert.Contains("syn-dropped", fatesSeen);
            Assert.Contains(fatesSeen, f => f is "accepted" or "queued");
            Assert.Contains(fatesSeen, f => f is "accepted-late" or "reset-on-data" or "stranded" or "still-half-established" or "reset-at-handshake");
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>connections.csv has one row per connection of report.json, in order, with the same facts.</summary>
    private static void AssertCsvHoldsTheReportsConnections(JsonElement report, string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new Xunit.Sdk.XunitException($"connections.csv has no column {name}");
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.All(rows, r => Assert.Equal(header.Length, r.Length));
        string Ms(JsonElement e) => e.ValueKind == JsonValueKind.Null ? "" : e.GetDouble().ToString("0.###", CultureInfo.InvariantCulture);
        int row = 0;
        foreach (var scenario in report.GetProperty("scenarios").EnumerateArray())
            foreach (var c in scenario.GetProperty("connections").EnumerateArray())
            {
                Assert.True(row < rows.Count, $"connections.csv has {rows.Count} rows, the report more connections");
                var r = rows[row++];
                var steps = c.GetProperty("steps").EnumerateArray().ToList();
                Assert.Equal(scenario.GetProperty("name").GetString(), r[Column("scenario")]);
                Assert.Equal(c.GetProperty("client").GetString(), r[Column("client")]);
                Assert.Equal(c.GetProperty("fate").GetString(), r[Column("fate")]);
                Assert.Equal(c.GetProperty("half_established").GetBoolean() ? "true" : "false", r[Column("half_established")]);
                Assert.Equal(c.GetProperty("kind").GetString() ?? "", r[Column("kind")]);
                Assert.Equal(steps[0].GetProperty("result").GetString(), r[Column("connect_result")]);
                Assert.Equal(Ms(steps[0].GetProperty("at_ms")), r[Column("connect_at_ms")]);
                for (int i = 1; i < steps.Count; i++)
                {
                    Assert.Equal(steps[i].GetProperty("step").GetString(), r[Column($"step{i + 1}")]);
                    Assert.Equal(steps[i].GetProperty("result").GetString(), r[Column($"step{i + 1}_result")]);
                    Assert.Equal(steps[i].TryGetProperty("errno", out var errno) ? errno.GetString() : "", r[Column($"step{i + 1}_errno")]);
                    Assert.Equal(Ms(steps[i].GetProperty("at_ms")), r[Column($"step{i + 1}_at_ms")]);
                }
                Assert.Equal(Ms(c.GetProperty("accepted_at_ms")), r[Column("accepted_at_ms")]);
                Assert.Equal(Ms(c.GetProperty("first_rst_at_ms")), r[Column("first_rst_at_ms")]);
            }
        Assert.Equal(rows.Count, row);
    }

    /// <summary>Every fate of a half-established connection that the run saw is named by at least one remedy.</summary>
    private static void AssertEveryHalfEstablishedFateHasARemedy(JsonElement report)
    {
        foreach (var scenario in report.GetProperty("scenarios").EnumerateArray())
        {
            var halfFates = scenario.GetProperty("connections").EnumerateArray()
                .Where(c => c.GetProperty("half_established").GetBoolean()).Select(c => c.GetProperty("fate").GetString()!).ToHashSet();
            var remedied = scenario.GetProperty("remedies").EnumerateArray()
                .SelectMany(r => r.GetProperty("fates").EnumerateArray().Select(f => f.GetString()!)).ToHashSet();
            foreach (var fate in halfFates)
                Assert.True(remedied.Contains(fate), $"{scenario.GetProperty("name").GetString()}: no remedy for {fate} (remedies name {string.Join(", ", remedied)})");
        }
    }

    private static Dictionary<string, string> ExplainFates(string capture)
    {
        var fates = new Dictionary<string, string>();
        var engine = new Halfway.Analysis.AnalysisEngine(new Halfway.Analysis.AnalysisContext(), r => fates[r.Client.ToString()] = r.FateName);
        var summary = Halfway.Capture.CaptureAnalysis.Feed([capture], engine);
        engine.Finish();
        Assert.False(summary.Damaged, $"{capture} read as damaged");
        return fates;
    }
}
