using System.Text.Json;
using Halfway.Tests.Support;

namespace Halfway.Tests.Cli;

/// <summary>
/// `halfway explain` on captures the real kernel made in a lab run: a syncookie server with a full accept queue, whose
/// burst of clients connect, wait, then send, has connections that complete on a re-sent first data segment (reported
/// half-established, likely, with the reason); a quiet listener whose link loses one data segment once has none.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ExplainLateCompletionLabTests : IDisposable
{
    private const string CrossConnectionReason = "other connection(s) to this listener";
    private readonly string _folder = Directory.CreateTempSubdirectory("halfway-explain-late-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // syncookies=2: every SYN gets a cookie and the server keeps no request socket, so a final ACK (or first data) that
    // meets the 2-slot accept queue full is dropped without a trace; 5 accepts a second drain the queue slowly, so some
    // clients' first data gets through on its first re-send and others only later.
    private const string CookieBurst = """
        name: cookie-burst
        duration: 30s
        topology: pair
        link: { delay: 5ms }
        kernel:
          server:
            net.ipv4.tcp_syncookies: 2
        server:
          port: 8080
          backlog: 1
          accept: { mode: rate, rate: 5 }
          reply: Pong
        clients:
          count: 16
          rate: 400
          seed: 3
          steps:
            - connect: { timeout: 10s }
            - wait: 300ms
            - send: Ping
            - receive: { timeout: 20s }
            - close
        """;

    // The same server with room in its queue, three clients half a second apart; the link loses one data segment once.
    private const string QuietLoss = """
        name: quiet-loss
        duration: 20s
        topology: pair
        link:
          delay: 5ms
          drop:
            - { name: one-lost-data-segment, direction: client-to-server, payload: 1..100, count: 1 }
        kernel:
          server:
            net.ipv4.tcp_syncookies: 2
        server:
          port: 8080
          backlog: 1
          accept: { mode: immediately }
          reply: Pong
        clients:
          count: 3
          rate: 2
          seed: 3
          steps:
            - connect: { timeout: 10s }
            - wait: 300ms
            - send: Ping
            - receive: { timeout: 15s }
            - close
        """;

    [LabFact]
    public void Syncookie_burst_connections_completing_on_a_resent_first_data_segment_are_half_established_likely_with_the_reason()
    {
        var (capture, labReport) = Run("cookie-burst", CookieBurst);
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromMinutes(1), "explain", "--json", "--all", capture);
        Assert.True(exitCode == 0, $"explain: exit {exitCode}: {stderr}");
        using var explained = JsonDocument.Parse(stdout);
        var connections = explained.RootElement.GetProperty("connections").EnumerateArray().ToList();
        Assert.Equal(16, connections.Count);

        var revised = connections.Where(c => Reason(c).Contains(CrossConnectionReason)).ToList();
        Assert.True(revised.Count >= 1, "no connection completed on a re-sent first data segment was revised; fates: "
            + string.Join(", ", connections.Select(c => $"{c.GetProperty("fate").GetString()}/{c.GetProperty("client_retransmissions").GetInt32()}")));
        // The lab's socket table saw the server side: every revised connection was half-established there.
        var labHalf = labReport.GetProperty("connections").EnumerateArray()
            .ToDictionary(c => c.GetProperty("client").GetString()!, c => c.GetProperty("half_established").GetBoolean());
        foreach (var c in revised)
        {
            string client = c.GetProperty("client").GetString()!;
            Assert.Equal("accepted-late", c.GetProperty("fate").GetString());
            Assert.True(c.GetProperty("half_established").GetBoolean());
            Assert.Equal("likely", c.GetProperty("confidence").GetString());
            Assert.Contains("first data was re-sent", Reason(c));
            Assert.True(c.GetProperty("client_retransmissions").GetInt32() >= 1, client);
            Assert.True(labHalf[client], $"{client}: revised to half-established, but the lab's socket table says it was not");
        }
        // The neighbours that make the revision likely are half-established on the classifier's own evidence.
        var listener = Assert.Single(explained.RootElement.GetProperty("listeners").EnumerateArray().ToList());
        long likely = listener.GetProperty("half_established_likely").GetInt64();
        Assert.True(likely > revised.Count, $"{likely} likely verdicts on the listener, {revised.Count} of them revised: none to be a neighbour");
        Assert.Equal(connections.Count(c => c.GetProperty("half_established").GetBoolean()), listener.GetProperty("half_established").GetInt64());

        // The text report shows them too, with the reason.
        var text = HalfwayProcess.Run(TimeSpan.FromMinutes(1), "explain", capture);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("likely: the client's first data was re-sent", text.Stdout);
    }

    [LabFact]
    public void A_lone_data_segment_lost_on_a_quiet_listener_is_not_reported()
    {
        var (capture, labReport) = Run("quiet-loss", QuietLoss);
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromMinutes(1), "explain", "--json", "--all", capture);
        Assert.True(exitCode == 0, $"explain: exit {exitCode}: {stderr}");
        using var explained = JsonDocument.Parse(stdout);
        var connections = explained.RootElement.GetProperty("connections").EnumerateArray().ToList();
        Assert.Equal(3, connections.Count);
        // The loss really happened on the wire: one connection's data was re-sent.
        Assert.Contains(connections, c => c.GetProperty("client_retransmissions").GetInt32() >= 1);
        Assert.Equal(1, labReport.GetProperty("link").GetProperty("packets_dropped").GetInt64());
        Assert.Equal(0, explained.RootElement.GetProperty("half_established_total").GetInt64());
        Assert.All(connections, c => Assert.Equal("accepted", c.GetProperty("fate").GetString()));
    }

    private static string Reason(JsonElement connection) =>
        connection.TryGetProperty("confidence_reason", out var r) ? r.GetString() ?? "" : "";

    /// <summary>Runs the scenario in a lab (bounded) and returns its capture's path and its scenario report.</summary>
    private (string Capture, JsonElement Scenario) Run(string name, string yaml)
    {
        string path = Path.Combine(_folder, $"{name}.yaml");
        File.WriteAllText(path, yaml);
        string runs = Path.Combine(_folder, "runs-" + name);
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromMinutes(2), "run", path, "-o", runs, "--json", "-q");
        Assert.True(exitCode == 0, $"run {name}: exit {exitCode}: {stderr}");
        string folder = JsonDocument.Parse(stdout).RootElement.GetProperty("run_folder").GetString()!;
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        var scenario = report.RootElement.GetProperty("scenarios")[0].Clone();
        return (Path.Combine(folder, scenario.GetProperty("capture").GetString()!), scenario);
    }
}
