using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Scenarios;
using Halfway.Traffic;
using Halfway.Observe;

// Benchmarks that need the lab. Each prints plain "key=value" lines that bench/NAME/run.sh turns into results.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
return args switch
{
    ["storm", var n, var cClient] => await Storm(int.Parse(n), cClient),
    ["storm-server", var port] => await StormServer(int.Parse(port)),
    ["link", var seconds] => await Link(double.Parse(seconds, CultureInfo.InvariantCulture)),
    ["reports", var yaml, var folder] => await Reports(yaml, folder),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Halfway.Bench storm N PATH-TO-C-CLIENT | link SECONDS | reports SCENARIO.yaml FOLDER");
    return 2;
}

// A run's reports: runs the scenario once, then times each stage of writing its folder apart, so that what the
// reports cost can be set against the run's own wall time.
static async Task<int> Reports(string yaml, string folder)
{
    var scenario = ScenarioParser.Parse(File.ReadAllText(yaml), yaml);
    Halfway.Runs.ScenarioRunner.Preflight([scenario]);
    var watch = Stopwatch.StartNew();
    var run = await Halfway.Runs.ScenarioRunner.RunAsync(scenario, null, CancellationToken.None);
    double runMs = watch.Elapsed.TotalMilliseconds;
    Directory.CreateDirectory(folder);
    watch.Restart();
    string capture = Halfway.Runs.RunCapture.Write(run, folder);
    double captureMs = watch.Elapsed.TotalMilliseconds;
    watch.Restart();
    var analysis = Halfway.Runs.ScenarioAnalysis.Analyze(run);
    var report = Halfway.Reports.ReportBuilder.Build([run], [analysis], folder, [capture]);
    double analysisMs = watch.Elapsed.TotalMilliseconds;
    watch.Restart();
    string json = report.ToJson();
    await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), json);
    double jsonMs = watch.Elapsed.TotalMilliseconds;
    watch.Restart();
    await File.WriteAllTextAsync(Path.Combine(folder, Halfway.Reports.ConnectionsCsv.FileName), Halfway.Reports.ConnectionsCsv.Render(report));
    double csvMs = watch.Elapsed.TotalMilliseconds;
    watch.Restart();
    string html = Halfway.Reports.Html.RunHtml.Render(report);
    await File.WriteAllTextAsync(Path.Combine(folder, Halfway.Reports.Html.RunHtml.FileName), html);
    double htmlMs = watch.Elapsed.TotalMilliseconds;
    int connections = report.Scenarios[0].Connections.Count;
    Console.WriteLine($"connections={connections} fates={string.Join(",", report.Scenarios[0].Fates.Select(f => $"{f.Key}:{f.Value}"))}");
    Console.WriteLine($"run_ms={runMs:0} capture_ms={captureMs:0} analysis_ms={analysisMs:0} json_ms={jsonMs:0} csv_ms={csvMs:0} html_ms={htmlMs:0}");
    Console.WriteLine($"json_bytes={System.Text.Encoding.UTF8.GetByteCount(json)} html_bytes={System.Text.Encoding.UTF8.GetByteCount(html)}");
    return 0;
}

// Connection storm: N connects at once to the tool's accept-immediately server, in one lab host. The clients compared
// are the tool's, bare .NET ConnectAsync (the floor of .NET's own socket engine, which the tool's client bypasses for
// connects) and a C epoll client; each faces the same server, run in a process of its own (as the C client is) so that
// no client shares its process and thread pool with the server. One more row runs the tool's client with the server in
// the same process, as `halfway run` does.
static async Task<int> Storm(int n, string cClient)
{
    Halfway.Native.Libc.RaiseFileLimit();
    using var lab = LabNetwork.CreateSingle("storm");
    lab.Server.Settings.Write("net.core.somaxconn", "65535");
    lab.Server.Settings.Write("net.ipv4.tcp_max_syn_backlog", "65535");
    lab.Server.Settings.Write("net.ipv4.ip_local_port_range", "10000 65000");
    var clock = lab.Clock;
    var server = StormServerSpec(8080);
    var connectTimeout = Environment.GetEnvironmentVariable("STORM_NO_TIMEOUT") == "1" ? (TimeSpan?)null : TimeSpan.FromSeconds(30);
    int port = 8080;

    // Round 0 is a warm-up (JIT, thread pool growth) with fewer connections; its lines are labelled and not counted.
    int rounds = int.TryParse(Environment.GetEnvironmentVariable("STORM_ROUNDS"), out int r) ? r : 9;
    for (int round = 0; round <= rounds; round++)
    {
        int count = round == 0 ? Math.Max(100, n / 8) : n;
        string label = round == 0 ? "warmup-" : "";
        // the tool's client
        await using (var _ = await StartServerProcess(lab, ++port))
        {
            var rate = await ToolClientRate(lab, clock, count, connectTimeout, port);
            Console.WriteLine($"{label}tool round={round} {rate}");
        }
        // the tool's client and server in one process, as `halfway run` runs them; and the same with the kernel witness
        // attached to the lab's namespace, as `halfway run` runs by default. The two swap places every round: the row run
        // second was faster in every round of a first version (a warmer process), whichever it was.
        async Task OneProcess(bool witnessOn)
        {
            await using var listener = TrafficServer.Start(lab.Server, server with { Port = ++port }, clock);
            if (!witnessOn)
            {
                Console.WriteLine($"{label}tool-one-process round={round} {await ToolClientRate(lab, clock, count, connectTimeout, port)}");
                return;
            }
            long events = 0;
            uint inode = lab.Server.Run(KernelWitness.CurrentNamespaceInode);
            using var witness = KernelWitness.TryStart(inode, clock.ToMicroseconds, null, _ => Interlocked.Increment(ref events), out string? why);
            var rate = await ToolClientRate(lab, clock, count, connectTimeout, port);
            witness?.Stop();
            Console.WriteLine(witness is null
                ? $"{label}tool-one-process-witness round={round} witness off: {why}"
                : $"{label}tool-one-process-witness round={round} {rate} witness_events={Interlocked.Read(ref events)} witness_lost={witness.Lost}");
        }
        await OneProcess(witnessOn: round % 2 == 1);
        await OneProcess(witnessOn: round % 2 == 0);
        // the floor of .NET itself: bare ConnectAsync calls, no bookkeeping
        await using (var _ = await StartServerProcess(lab, ++port))
        {
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var sockets = lab.Client.Run(() => Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToArray());
            var target = new IPEndPoint(IPAddress.Loopback, port);
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(sockets.Select(s => s.ConnectAsync(target)));
            double seconds = watch.Elapsed.TotalSeconds;
            foreach (var socket in sockets)
                socket.Dispose();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            Console.WriteLine($"{label}dotnet-bare round={round} connected={count} seconds={seconds:0.000000} rate={count / seconds:0.0} cpu_us_per_connection={cpu.TotalMicroseconds / count:0.0}");
        }
        // C epoll baseline, started inside the same namespace
        await using (var _ = await StartServerProcess(lab, ++port))
        {
            var start = new ProcessStartInfo(cClient, $"127.0.0.1 {port} {count}") { RedirectStandardOutput = true };
            using var process = lab.Client.StartProcess(start);
            string output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Console.WriteLine($"{label}c round={round} {output.Trim()}");
        }
    }
    return 0;
}

static ServerSpec StormServerSpec(int port) =>
    new() { Port = port, Backlog = 65535, Reply = null, Accept = new AcceptPolicy { Mode = AcceptMode.Immediately, Acceptors = 2 } };

static async Task<string> ToolClientRate(LabNetwork lab, LabClock clock, int count, TimeSpan? connectTimeout, int port)
{
    var client = new TrafficClient(new ClientSpec { Count = count, Steps = [new Step { Kind = ClientStep.Connect, Timeout = connectTimeout }] },
        clock, new IPEndPoint(IPAddress.Loopback, port));
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    await client.RunAsync(lab.Client, CancellationToken.None);
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    var ok = client.Connections.Where(c => c.ConnectedAtMs is not null).ToList();
    double seconds = (ok.Max(c => c.ConnectedAtMs!.Value) - client.Connections.Min(c => c.ConnectStartedAtMs ?? double.MaxValue)) / 1000;
    // The process's CPU time includes socket creation and closing, as the C client's does; with the server in its own
    // process it is the client's alone.
    return $"connected={ok.Count} seconds={seconds:0.000000} rate={ok.Count / seconds:0.0} cpu_us_per_connection={cpu.TotalMicroseconds / count:0.0}";
}

// The tool's server in a child process started inside the lab host; it serves until its stdin closes.
static async Task<ServerProcess> StartServerProcess(LabNetwork lab, int port)
{
    // This program again: `dotnet Halfway.Bench.dll` (the dll is the first argument) or its own apphost.
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
    string self = Environment.GetCommandLineArgs()[0];
    if (self.EndsWith(".dll", StringComparison.Ordinal))
        start.ArgumentList.Add(self);
    start.ArgumentList.Add("storm-server");
    start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
    var process = lab.Server.StartProcess(start);
    using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    string? line = await process.StandardOutput.ReadLineAsync(ready.Token);
    if (line != "ready")
        throw new InvalidOperationException($"the storm server on port {port} did not start: {line}");
    return new ServerProcess(process);
}

static async Task<int> StormServer(int port)
{
    Halfway.Native.Libc.RaiseFileLimit();
    await using var server = TrafficServer.Start(TrafficServer.Listen(StormServerSpec(port)), StormServerSpec(port), new LabClock());
    Console.WriteLine("ready");
    await Console.In.ReadToEndAsync();
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

sealed class ServerProcess(Process process) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
        }
        process.Dispose();
    }
}
