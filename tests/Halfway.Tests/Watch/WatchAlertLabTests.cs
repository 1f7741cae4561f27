using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Halfway.Lab;
using Halfway.Observe;

namespace Halfway.Tests.Watch;

/// <summary>
/// The alerts against real kernels: nftables in the lab server drops the clients' pure ACKs (the
/// firewall case), so request sockets re-send their SYN-ACKs while the accept queue is empty.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class WatchAlertLabTests
{
    private const int Port = 8081;
    private const int Backlog = 32;

    [LabFact]
    public async Task Firewalled_final_acks_start_change_and_end_a_lost_ack_alert_once_each_and_never_an_overflow()
    {
        using var lab = LabNetwork.CreatePair("watch-lostack", new LinkOptions());
        var sockets = new List<Socket>();
        using var stop = new CancellationTokenSource();
        try
        {
            sockets.Add(lab.Server.Run(() =>
            {
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Any, Port));
                listener.Listen(Backlog);
                return listener;
            }));
            Nft(lab.Server, $"add table inet halfway_lab\nadd chain inet halfway_lab input {{ type filter hook input priority 0; }}\nadd rule inet halfway_lab input tcp dport {Port} tcp flags & (fin|syn|rst|psh|ack) == ack drop\n");

            using var cli = WatchCli.Start([Port.ToString(CultureInfo.InvariantCulture), "--json", "--interval", "1"], lab.Server);
            var samples = new List<JsonElement>();
            JsonElement? Next()
            {
                string? line = cli.NextLine(TimeSpan.FromSeconds(15));
                if (line is null)
                    return null;
                var root = JsonDocument.Parse(line).RootElement;
                samples.Add(root);
                return root;
            }
            Assert.True(Next() is not null, $"no first sample within 15 s: {cli.Errors}");

            Connect(lab, sockets, 3, stop.Token);
            using var table = lab.Server.Run(() => new SocketTable());
            var resendingSeen = await WaitForResendingAsync(lab, table, 3);
            // Within 2 samples of the first re-sent SYN-ACKs (by the samples' own times: lines may wait in the pipe).
            static DateTime Time(JsonElement s) => DateTime.Parse(s.GetProperty("time").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            while (!samples.Any(HasStartedLostAcks) && samples.Count(s => Time(s) >= resendingSeen) < 3)
                Assert.True(Next() is not null, $"watch stopped printing: {cli.Errors}");
            var started = samples.FindIndex(HasStartedLostAcks);
            Assert.True(started >= 0, $"no lost-ACK alert within 2 samples after {resendingSeen:O}: {Lines(samples)}");
            Assert.True(samples.Take(started).Count(s => Time(s) >= resendingSeen) < 2, $"lost-ACK alert came later than 2 samples after {resendingSeen:O}: {Lines(samples)}");

            // Four times as many: a material change.
            Connect(lab, sockets, 9, stop.Token);
            await WaitForResendingAsync(lab, table, 12);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (!samples.Any(s => Alerts(s).Any(a => a.StartsWith("changed: final ACKs lost", StringComparison.Ordinal))) && DateTime.UtcNow < deadline)
                Assert.True(Next() is not null, $"watch stopped printing: {cli.Errors}");

            // The firewall goes: the next re-sent SYN-ACKs are answered, the connections reach the accept queue.
            Nft(lab.Server, "delete table inet halfway_lab\n");
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!samples.Any(s => Alerts(s).Any(a => a.StartsWith("ended: final ACKs lost", StringComparison.Ordinal))) && DateTime.UtcNow < deadline)
                Assert.True(Next() is not null, $"watch stopped printing: {cli.Errors}");
            // One more sample: nothing is printed again.
            Next();

            var all = samples.SelectMany(Alerts).ToList();
            Assert.Single(all, a => a.StartsWith("started: final ACKs lost between client and listener 0.0.0.0:8081: ", StringComparison.Ordinal));
            Assert.Single(all, a => a.StartsWith("changed: final ACKs lost between client and listener 0.0.0.0:8081: ", StringComparison.Ordinal));
            var ended = Assert.Single(all, a => a.StartsWith("ended: final ACKs lost at 0.0.0.0:8081 after ", StringComparison.Ordinal));
            Assert.Contains("at most 12 requests waiting", ended);
            Assert.DoesNotContain(all, a => a.Contains("accept queue of", StringComparison.Ordinal) || a.Contains("overflow", StringComparison.Ordinal));
            Assert.DoesNotContain(samples, s => s.GetProperty("active_alerts").EnumerateArray().Any(a => a.GetProperty("kind").GetString() == "accept_queue_overflow"));
            // While on, the JSON carries the alert's state with each sample: started, then changed or ongoing (a run whose
            // samples went started → changed → ended shows no "ongoing" one), then ended.
            string[] States(string state) => samples.SelectMany(s => s.GetProperty("active_alerts").EnumerateArray())
                .Where(a => a.GetProperty("kind").GetString() == "final_acks_lost" && a.GetProperty("subject").GetString() == "0.0.0.0:8081")
                .Select(a => a.GetProperty("state").GetString()!).Where(x => x == state).ToArray();
            Assert.Single(States("started"));
            Assert.NotEmpty(States("changed").Concat(States("ongoing")));
            Assert.Single(States("ended"));
        }
        finally
        {
            stop.Cancel();
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }

    private static bool HasStartedLostAcks(JsonElement sample) =>
        Alerts(sample).Any(a => a.StartsWith("started: final ACKs lost", StringComparison.Ordinal));

    private static IEnumerable<string> Alerts(JsonElement sample) => sample.GetProperty("alerts").EnumerateArray().Select(a => a.GetString()!);

    private static string Lines(List<JsonElement> samples) => string.Join("\n", samples.Select(s => s.GetRawText()));

    private static void Connect(LabNetwork lab, List<Socket> sockets, int count, CancellationToken token)
    {
        for (int i = 0; i < count; i++)
        {
            var client = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            sockets.Add(client);
            // The client is ESTABLISHED at once; only its final ACK is dropped at the server.
            _ = client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, Port), token).AsTask()
                .ContinueWith(t => t.Exception, TaskScheduler.Default);
        }
    }

    private static async Task<DateTime> WaitForResendingAsync(LabNetwork lab, SocketTable table, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (lab.Server.Run(() => table.Read([TcpState.SynRecv], [Port])).Count(s => s.Retransmits > 0) < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"fewer than {count} requests re-sent their SYN-ACK within 10 s");
            await Task.Delay(50);
        }
        return DateTime.UtcNow;
    }

    /// <summary>Runs an nft script inside the lab host's namespace (bounded; fails the test with nft's words).</summary>
    internal static void Nft(LabHost host, string script)
    {
        var start = new ProcessStartInfo("nft", "-f -") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = host.StartProcess(start);
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        string errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill();
            throw new TimeoutException("nft did not finish within 10 s");
        }
        Assert.True(process.ExitCode == 0, $"nft failed ({process.ExitCode}): {errors}");
    }
}
