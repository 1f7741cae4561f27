using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Scenarios;
using Halfway.Traffic;

// Benchmarks that need the lab. Each prints plain "key=value" lines that bench/NAME/run.sh turns into results.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
return args switch
{
    ["storm", var n, var cClient] => await Storm(int.Parse(n), cClient),
    ["link", var seconds] => await Link(double.Parse(seconds, CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Halfway.Bench storm N PATH-TO-C-CLIENT | link SECONDS");
    return 2;
}

// Connection storm: N connects at once to an accept-immediately server, tool client vs C epoll client, same lab host.
static async Task<int> Storm(int n, string cClient)
{
    Halfway.Native.Libc.RaiseFileLimit();
    using var lab = LabNetwork.CreateSingle("storm");
    lab.Server.Settings.Write("net.core.somaxconn", "65535");
    lab.Server.Settings.Write("net.ipv4.tcp_max_syn_backlog", "65535");
    lab.Server.Settings.Write("net.ipv4.ip_local_port_range", "10000 65000");
    var clock = lab.Clock;
    var server = new ServerSpec { Port = 8080, Backlog = 65535, Reply = null, Accept = new AcceptPolicy { Mode = AcceptMode.Immediately, Acceptors = 2 } };

    // Round 0 is a warm-up (JIT, thread pool growth) with fewer connections; its lines are labelled and not counted.
    for (int round = 0; round < 6; round++)
    {
        int count = round == 0 ? Math.Max(100, n / 8) : n;
        string label = round == 0 ? "warmup-" : "";
        // tool
        await using (var listener = TrafficServer.Start(lab.Server, server with { Port = 8080 + round * 2 }, clock))
        {
            var client = new TrafficClient(new ClientSpec { Count = count, Steps = [new Step { Kind = StepKind.Connect, Timeout = Environment.GetEnvironmentVariable("STORM_NO_TIMEOUT") == "1" ? null : TimeSpan.FromSeconds(30) }] },
                clock, new IPEndPoint(IPAddress.Loopback, 8080 + round * 2));
            await client.RunAsync(lab.Client, CancellationToken.None);
            var ok = client.Connections.Where(c => c.ConnectedAtMs is not null).ToList();
            double seconds = (ok.Max(c => c.ConnectedAtMs!.Value) - client.Connections.Min(c => c.ConnectStartedAtMs ?? double.MaxValue)) / 1000;
            Console.WriteLine($"{label}tool round={round} connected={ok.Count} seconds={seconds:0.000000} rate={ok.Count / seconds:0.0}");
        }
        // the floor of .NET itself: bare ConnectAsync calls, no bookkeeping
        await using (var listener = TrafficServer.Start(lab.Server, server with { Port = 8100 + round }, clock))
        {
            var sockets = lab.Client.Run(() => Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToArray());
            var target = new IPEndPoint(IPAddress.Loopback, 8100 + round);
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(sockets.Select(s => s.ConnectAsync(target)));
            double seconds = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"{label}dotnet-bare round={round} connected={count} seconds={seconds:0.000000} rate={count / seconds:0.0}");
            foreach (var socket in sockets)
                socket.Dispose();
        }
        // C epoll baseline, started inside the same namespace
        await using (var listener = TrafficServer.Start(lab.Server, server with { Port = 8081 + round * 2 }, clock))
        {
            var start = new ProcessStartInfo(cClient, $"127.0.0.1 {8081 + round * 2} {count}") { RedirectStandardOutput = true };
            using var process = lab.Client.StartProcess(start);
            string output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Console.WriteLine($"{label}c round={round} {output.Trim()}");
        }
    }
    return 0;
}

// Link: forwarder throughput (no delay) and delay accuracy (5 ms), plus loopback throughput in a lab host.
static async Task<int> Link(double seconds)
{
    var payload = new byte[64];
    // throughput through the link
    long forwarded;
    double elapsed;
    using (var lab = LabNetwork.CreatePair("link-pps", new LinkOptions { ClientToServer = new LinkImpairment { Delay = TimeSpan.Zero } }))
    {
        using var sender = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        using var receiver = lab.Server.Run(() => { var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp); s.Bind(new IPEndPoint(IPAddress.Any, 9000)); return s; });
        var target = new IPEndPoint(LabNetwork.PairServerAddress, 9000);
        long before = lab.Link!.PacketsSeen;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
            sender.SendTo(payload, target);
        await Task.Delay(100);
        elapsed = watch.Elapsed.TotalSeconds;
        forwarded = lab.Link.PacketsSeen - lab.Link.PacketsDropped - before;
    }
    Console.WriteLine($"link forwarded={forwarded} seconds={elapsed:0.000} pps={forwarded / elapsed:0}");

    // delay accuracy: paced packets across a 5 ms link
    var delays = new List<double>();
    using (var lab = LabNetwork.CreatePair("link-delay", new LinkOptions(), packet =>
    {
        if (packet.Action == LinkAction.Passed && packet.Bytes.Length > 9 && packet.Bytes[9] == 17)
            lock (delays) delays.Add((packet.DeliveredAtMicroseconds - packet.SeenAtMicroseconds) / 1000.0);
    }))
    {
        using var sender = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var target = new IPEndPoint(LabNetwork.PairServerAddress, 9000);
        for (int i = 0; i < 2000; i++)
        {
            sender.SendTo(payload, target);
            if (i % 4 == 3) await Task.Delay(1);
        }
        await Task.Delay(200);
    }
    lock (delays)
    {
        delays.Sort();
        double P(double q) => delays[Math.Min(delays.Count - 1, (int)(q * delays.Count))];
        Console.WriteLine($"delay configured_ms=5 samples={delays.Count} p50_ms={P(0.5):0.000} p99_ms={P(0.99):0.000} max_ms={delays[^1]:0.000}");
    }
    return 0;
}
