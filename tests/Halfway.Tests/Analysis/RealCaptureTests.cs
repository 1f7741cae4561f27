using System.Text.Json;
using Halfway.Analysis;
using Halfway.Capture;

namespace Halfway.Tests.Analysis;

/// <summary>
/// A capture of the real kernel (docs/examples/make-explain-capture.sh: loopback in a private namespace, a firewall that
/// drops some final ACKs, a TCP_DEFER_ACCEPT listener, a full accept queue, a closed port), and the `explain` command on it.
/// </summary>
public sealed class RealCaptureTests
{
    public static readonly string ExamplePath = Path.Combine(AppContext.BaseDirectory, "Data", "explain-example.pcap");

    [Fact]
    public void Fates_of_the_example_capture_match_what_the_clients_saw()
    {
        var reports = new List<ConnectionReport>();
        var engine = new AnalysisEngine(new AnalysisContext(), reports.Add);
        var summary = CaptureAnalysis.Feed([ExamplePath], engine);
        engine.Finish();
        Assert.False(summary.Damaged);
        var byClientPort = reports.ToDictionary(r => r.Client.Port);
        // What each client saw is in the scenario's log (docs/explain.md); these are the wire's verdicts.
        Assert.Equal(Fate.Accepted, byClientPort[40001].Fate);                     // ping, pong
        Assert.Equal(Fate.AcceptedLate, byClientPort[41001].Fate);                 // ACK dropped, data at 2.5 s completed it
        Assert.Equal("request-socket", byClientPort[41001].Kind);
        Assert.Equal(Fate.ResetOnData, byClientPort[41002].Fate);                  // data at 9 s: ECONNRESET
        Assert.Equal(Fate.Stranded, byClientPort[41003].Fate);                     // never sent; only its FIN at close (11 s) drew the RST
        Assert.Equal(Fate.AcceptedLate, byClientPort[42001].Fate);                 // TCP_DEFER_ACCEPT: a re-ACK completed it
        Assert.Equal(Fate.Accepted, byClientPort[43001].Fate);                     // queued in fact: the wire cannot see accept()
        Assert.Equal(Fate.SynDropped, byClientPort[43002].Fate);                   // accept queue full: connect() timed out
        Assert.Equal(Fate.Refused, byClientPort[44001].Fate);
        Assert.Equal(8, reports.Count);
        Assert.All(reports.Where(r => r.Client.Port / 1000 is 41 or 42), r => Assert.True(r.HalfEstablished));
        Assert.All(reports.Where(r => r.Client.Port / 1000 is 40 or 43 or 44), r => Assert.False(r.HalfEstablished));
    }

    [Fact]
    public void Explain_command_json_and_exit_codes()
    {
        var (code, output, _) = RunCli("explain", "--json", ExamplePath);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var connections = json.RootElement.GetProperty("connections").EnumerateArray().ToList();
        var late = connections.Single(c => c.GetProperty("client").GetString() == "127.0.0.1:41001");
        Assert.Equal("127.0.0.1:8080", late.GetProperty("server").GetString());
        Assert.Equal("accepted-late", late.GetProperty("fate").GetString());
        Assert.True(late.GetProperty("half_established").GetBoolean());
        Assert.Equal(3, json.RootElement.GetProperty("schema_version").GetInt32());
        // Schema 3: evidence is indices into the timeline's [t, where, text] rows, not a second copy of them.
        var timeline = late.GetProperty("timeline").EnumerateArray().ToList();
        var evidence = late.GetProperty("evidence").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.NotEmpty(evidence);
        Assert.All(evidence, i => Assert.InRange(i, 0, timeline.Count - 1));
        Assert.Equal(evidence.Order(), evidence);
        Assert.Contains(evidence, i => timeline[i][1].GetString() == "w<" && timeline[i][2].GetString() == "SYN-ACK (re-sent)");
        Assert.All(timeline, row => Assert.Equal(JsonValueKind.Number, row[0].ValueKind));
        Assert.Equal(0, timeline[0][0].GetDouble());
        var listener = json.RootElement.GetProperty("listeners").EnumerateArray().Single(l => l.GetProperty("server").GetString() == "127.0.0.1:8080");
        Assert.Equal(1, listener.GetProperty("fates").GetProperty("reset-on-data").GetInt32());
        Assert.Equal(1, listener.GetProperty("fates").GetProperty("stranded").GetInt32());
        Assert.Empty(json.RootElement.GetProperty("warnings").EnumerateArray());

        var damaged = Path.Combine(Path.GetTempPath(), $"halfway-damaged-{Guid.NewGuid():N}.pcap");
        var notCapture = Path.Combine(Path.GetTempPath(), $"halfway-text-{Guid.NewGuid():N}.pcap");
        try
        {
            var bytes = File.ReadAllBytes(ExamplePath);
            File.WriteAllBytes(damaged, bytes[..(bytes.Length - 30)]);
            var (damagedCode, damagedOutput, damagedError) = RunCli("explain", "--json", damaged);
            Assert.Equal(3, damagedCode);
            using var damagedJson = JsonDocument.Parse(damagedOutput);
            var warning = Assert.Single(damagedJson.RootElement.GetProperty("warnings").EnumerateArray());
            Assert.True(warning.GetProperty("byte_offset").GetInt64() > 24);
            Assert.Contains("damaged", damagedError);

            File.WriteAllText(notCapture, "GET / HTTP/1.1\r\n");
            var (badCode, _, badError) = RunCli("explain", notCapture);
            Assert.Equal(2, badCode);
            Assert.Contains("not a pcap or pcapng", badError);
            Assert.DoesNotContain("   at ", badError); // no stack trace

            var (missingCode, _, missingError) = RunCli("explain", notCapture + ".missing");
            Assert.Equal(2, missingCode);
            Assert.Contains("cannot open", missingError);
        }
        finally
        {
            File.Delete(damaged);
            File.Delete(notCapture);
        }
    }

    [Fact]
    public void Connections_are_listed_in_the_order_they_started()
    {
        // The refused connection started after the accepted-late one but finished seconds before it.
        var (code, output, _) = RunCli("explain", "--json", "--all", ExamplePath);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var starts = json.RootElement.GetProperty("connections").EnumerateArray().Select(c => c.GetProperty("first_seen").GetDouble()).ToList();
        Assert.Equal(8, starts.Count);
        Assert.Equal(starts.Order(), starts);
    }

    [Fact]
    public void Filter_keeps_one_listener()
    {
        var (code, output, _) = RunCli("explain", "--json", "--filter", "8081", ExamplePath);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var listeners = json.RootElement.GetProperty("listeners").EnumerateArray().Select(l => l.GetProperty("server").GetString()).ToList();
        Assert.Equal(["127.0.0.1:8081"], listeners);
    }

    internal static (int Code, string Output, string Error) RunCli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = Halfway.Cli.Program.Run(args).GetAwaiter().GetResult(); // in-process: output through Console.Out
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
