using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Halfway.Lab;

namespace Halfway.Bench.Watch;

/// <summary>
/// Produces the transcript in docs/watch.md: a lab server with a listener (backlog 4) that never
/// accepts, a storm of connections across a 5 ms link that loses the first 4 final ACKs, and
/// `halfway watch` run inside the server's namespace, as a user would run it on that host.
/// </summary>
internal static class Demo
{
    public static async Task<int> RunAsync(string cliPath)
    {
        using var lab = LabNetwork.CreatePair("watch-demo", new LinkOptions
        {
            DropRules = [new DropRule { Name = "lost final ACK", Direction = LinkDirection.ClientToServer, HandshakeAck = true, FirstConnections = 4 }],
        });
        var sockets = new List<Socket>();
        sockets.Add(lab.Server.Run(() => Listen(8080, 4)));
        sockets.Add(lab.Server.Run(() => Listen(9090, 128)));

        using (var live = Start(lab.Server, cliPath, "watch", "--interval", "1"))
        {
            Console.WriteLine("$ halfway watch --interval 1        # not a terminal: plain lines");
            var lines = new StringBuilder();
            live.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.AppendLine(e.Data); };
            live.BeginOutputReadLine();
            await Task.Delay(1500);
            var server = new IPEndPoint(LabNetwork.PairServerAddress, 8080);
            await ConnectAllAsync(lab, sockets, server, 4);
            await Task.Delay(200);
            await ConnectAllAsync(lab, sockets, server, 5);
            for (int i = 0; i < 20; i++)
            {
                var client = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                sockets.Add(client);
                _ = client.ConnectAsync(server).ContinueWith(t => t.Exception, TaskScheduler.Default);
            }
            await Task.Delay(3500);
            live.Kill();
            live.WaitForExit(5000);
            lock (lines) Console.Write(lines);
        }

        Console.WriteLine();
        Console.WriteLine("$ halfway watch --once --json 8080");
        Console.WriteLine(RunToEnd(lab.Server, cliPath, "watch", "--once", "--json", "8080"));

        using (var prometheus = Start(lab.Server, cliPath, "watch", "8080", "--prometheus", "9464", "--json"))
        {
            prometheus.OutputDataReceived += (_, _) => { };
            prometheus.BeginOutputReadLine();
            await Task.Delay(2500);
            Console.WriteLine("$ curl -s http://127.0.0.1:9464/metrics      # while `halfway watch 8080 --prometheus 9464` runs");
            Console.WriteLine(Scrape(lab.Server, 9464));
            prometheus.Kill();
            prometheus.WaitForExit(5000);
        }
        foreach (var socket in sockets)
            socket.Dispose();
        return 0;
    }

    private static Socket Listen(int port, int backlog)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, port));
        socket.Listen(backlog);
        return socket;
    }

    private static async Task ConnectAllAsync(LabNetwork lab, List<Socket> sockets, IPEndPoint server, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var clients = Enumerable.Range(0, count).Select(_ => lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))).ToList();
        sockets.AddRange(clients);
        await Task.WhenAll(clients.Select(c => c.ConnectAsync(server, timeout.Token).AsTask()));
    }

    private static Process Start(LabHost host, string cliPath, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(cliPath);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return host.StartProcess(start);
    }

    private static string RunToEnd(LabHost host, string cliPath, params string[] arguments)
    {
        using var process = Start(host, cliPath, arguments);
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit(30000);
        return output.TrimEnd();
    }

    private static string Scrape(LabHost host, int port)
    {
        using var socket = host.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return s;
        });
        socket.Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray());
        var response = new MemoryStream();
        var buffer = new byte[16384];
        int received;
        while ((received = socket.Receive(buffer)) > 0)
            response.Write(buffer, 0, received);
        string text = Encoding.UTF8.GetString(response.ToArray());
        return text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..].TrimEnd();
    }
}
