using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Tests.Support;

namespace Halfway.Tests.Cli;

/// <summary>
/// A live `tcpdump -i any -U -w -` inside a lab's client namespace, piped into `halfway explain -` while the traffic
/// runs, gives the same report as `halfway explain FILE` on the very bytes that went through the pipe (saved beside it).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ExplainLiveCaptureLabTests : IDisposable
{
    private const int Port = 8080;
    private const int LostFinalAcks = 2;
    private readonly string _folder = Directory.CreateTempSubdirectory("halfway-explain-live-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [LabFact]
    public async Task Live_tcpdump_piped_into_explain_gives_the_report_of_the_saved_capture()
    {
        // The link loses the final ACK of the first 2 handshakes: their request sockets re-send the SYN-ACK after ~1 s
        // and the re-ACK completes them (half-established, certain); the 2 others are plainly accepted.
        using var lab = LabNetwork.CreatePair("explain-live", new LinkOptions
        {
            DropRules = [new DropRule { Name = "lost final ACK", Direction = LinkDirection.ClientToServer, HandshakeAck = true, FirstConnections = LostFinalAcks }],
        });
        var sockets = new List<Socket>();
        try
        {
            sockets.Add(lab.Server.Run(() =>
            {
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Any, Port));
                listener.Listen(16);
                return listener;
            }));

            var start = new ProcessStartInfo("tcpdump", ["-i", "any", "-U", "-n", "-w", "-", $"tcp port {Port}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            // On the client's side: the link drops the final ACKs after the client sent them, so the client's capture holds
            // them (a capture on the server's side would not, and would see nothing wrong).
            using var tcpdump = lab.Client.StartProcess(start);
            using var explain = Process.Start(HalfwayProcess.StartInfo("explain", "-"))!;
            var explainOut = explain.StandardOutput.ReadToEndAsync();
            var explainErr = explain.StandardError.ReadToEndAsync();
            string saved = Path.Combine(_folder, "live.pcap");
            var pump = Task.Run(async () =>
            {
                // The same bytes go into the pipe and into the file: the comparison is between reading them streamed and from a file.
                await using var file = File.Create(saved);
                var buffer = new byte[64 * 1024];
                var source = tcpdump.StandardOutput.BaseStream;
                var sink = explain.StandardInput.BaseStream;
                int n;
                while ((n = await source.ReadAsync(buffer)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, n));
                    await sink.WriteAsync(buffer.AsMemory(0, n));
                    await sink.FlushAsync();
                }
                explain.StandardInput.Close();
            });
            try
            {
                // tcpdump says "listening on any" once its capture is open: traffic before that would be missing.
                var listening = Task.Run(() =>
                {
                    string? line;
                    while ((line = tcpdump.StandardError.ReadLine()) is not null && !line.Contains("listening on"))
                    {
                    }
                    return line is not null;
                });
                Assert.True(listening.Wait(TimeSpan.FromSeconds(15)) && listening.Result, "tcpdump did not start listening within 15 s");
                _ = tcpdump.StandardError.ReadToEndAsync();

                var clients = Enumerable.Range(0, 4).Select(_ => lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))).ToList();
                sockets.AddRange(clients);
                using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
                {
                    foreach (var client in clients)
                        await client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, Port), timeout.Token);
                }
                await Task.Delay(TimeSpan.FromSeconds(1.6)); // past the first SYN-ACK re-send (~1 s)
                foreach (var client in clients)
                    client.Send("ping"u8);
                await Task.Delay(TimeSpan.FromMilliseconds(300));
                foreach (var client in clients)
                    client.Close();
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
            finally
            {
                Signal(tcpdump.Id, "INT");
                if (!tcpdump.WaitForExit(TimeSpan.FromSeconds(15)))
                    tcpdump.Kill();
            }
            Assert.True(pump.Wait(TimeSpan.FromSeconds(30)), "the pipe was not drained within 30 s of tcpdump's end");
            if (!explain.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                explain.Kill();
                Assert.Fail("halfway explain - did not end within 60 s of its input's end");
            }
            Assert.True(explain.ExitCode == 0, $"explain -: exit {explain.ExitCode}: {explainErr.Result}");

            var (fileExit, fileReport, fileErr) = HalfwayProcess.Run(TimeSpan.FromMinutes(1), "explain", saved);
            Assert.True(fileExit == 0, $"explain FILE: exit {fileExit}: {fileErr}");
            Assert.Equal(fileReport, explainOut.Result);
            Assert.True(fileReport.Contains("4 connections, 2 half-established.") && fileReport.Contains("accepted-late  (request-socket)  certain"), fileReport);
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        Assert.True(kill.WaitForExit(TimeSpan.FromSeconds(10)));
    }
}
