using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Observe;
using Halfway.Observe.Watch;

// `halfway watch` against `ss -tln` + `nstat -az` in one lab host holding 10 listeners and a growing
// number of established loopback connections. Prints plain "key=value" lines for bench/watch/run.sh.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args is ["demo", var demoCli])
    return await Halfway.Bench.Watch.Demo.RunAsync(demoCli);
if (args is not [var cliPath, var targetText, var warmupText, var cpuSecondsText])
{
    Console.Error.WriteLine("usage: WatchBench PATH-TO-Halfway.Cli.dll CONNECTIONS WARMUP-SECONDS CPU-SECONDS | demo PATH-TO-Halfway.Cli.dll");
    return 2;
}
int warmupSeconds = int.Parse(warmupText, CultureInfo.InvariantCulture);
int target = int.Parse(targetText, CultureInfo.InvariantCulture);
int cpuSeconds = int.Parse(cpuSecondsText, CultureInfo.InvariantCulture);
const int listenerCount = 10;
const int basePort = 9000;
const int samplesPerStep = 30;
const int baselineRunsPerStep = 10;

using var host = LabHost.Create("bench-watch");
// Lab-only settings: room for every connection in the accept queues and in the ephemeral port range.
host.Settings.Write("net.core.somaxconn", "4096");
host.Settings.Write("net.ipv4.ip_local_port_range", "10000 65000");
var listeners = host.Run(() => Enumerable.Range(0, listenerCount).Select(i =>
{
    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    s.Bind(new IPEndPoint(IPAddress.Loopback, basePort + i));
    s.Listen(4096);
    return s;
}).ToList());
// Only the client ends hold an fd: the server ends wait in the accept queues (nobody accepts), so one
// process can hold ~19,000 connections (38,000 TCP sockets in the table) under the 20,000 fd limit.
var clients = new List<Socket>();
var ports = Enumerable.Range(basePort, listenerCount).Select(p => (ushort)p).ToList();
var targets = ports.Select(p => new WatchTarget(null, p)).ToList();
using var filtered = host.Run(() => new WatchSampler(targets, "bench"));
using var table = host.Run(() => new SocketTable());
using var all = host.Run(() => new WatchSampler([], "bench"));

int[] steps = [0, target / 8, target / 4, target / 2, target];
double lastRatio = 0;
foreach (int step in steps.Distinct())
{
    host.Run(() =>
    {
        while (clients.Count < step)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(IPAddress.Loopback, basePort + clients.Count % listenerCount));
            clients.Add(client);
        }
    });
    var established = host.Run(() => File.ReadAllText("/proc/thread-self/net/sockstat"));
    double watchFiltered = Median(samplesPerStep, () => host.Run(() => Time(() => filtered.Sample())));
    double watchAll = Median(samplesPerStep, () => host.Run(() => Time(() => all.Sample())));
    double ss = Median(baselineRunsPerStep, () => RunTool(host, "ss", "-tln"));
    double nstat = Median(baselineRunsPerStep, () => RunTool(host, "nstat", "-azs"));
    // Where a walking sample's time goes: the listening hash (LISTEN), the established hash walk
    // (SYN-RECV, both families: an upper bound, watch walks only the families it needs), /proc counters.
    double listen = Median(samplesPerStep, () => host.Run(() => Time(() => table.Read([TcpState.Listen], ports))));
    double synRecv = Median(samplesPerStep, () => host.Run(() => Time(() => table.Read([TcpState.SynRecv], ports))));
    double counters = Median(samplesPerStep, () => host.Run(() => Time(() => KernelCounters.ReadCurrentNamespaceNetstat())));
    double walking = listen + synRecv + counters;
    double quietRatio = watchFiltered / (ss + nstat);
    lastRatio = walking / (ss + nstat);
    Console.WriteLine($"step connections={clients.Count} tcp_inuse={InUse(established)} watch_quiet_ms={watchFiltered:0.000} watch_quiet_all_listeners_ms={watchAll:0.000} watch_walking_ms={walking:0.000} ss_tln_ms={ss:0.000} nstat_az_ms={nstat:0.000} ratio_quiet={quietRatio:0.000} ratio_walking={lastRatio:0.000}");
    Console.WriteLine($"breakdown connections={clients.Count} listen_dump_ms={listen:0.000} syn_recv_walk_ms={synRecv:0.000} netstat_ms={counters:0.000}");
}

// CPU of the real command at 1 Hz: `halfway watch --json` inside the namespace, over CPU-SECONDS after a warm-up.
var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
{
    RedirectStandardOutput = true,
    UseShellExecute = false,
};
foreach (var a in new[] { cliPath, "watch", "--json", "--interval", "1" })
    start.ArgumentList.Add(a);
using (var watch = host.StartProcess(start))
{
    int lines = 0;
    watch.OutputDataReceived += (_, e) => { if (e.Data is not null) Interlocked.Increment(ref lines); };
    watch.BeginOutputReadLine();
    // The first minute includes the JIT's tier-ups (a method is recompiled after 30 calls, so twice
    // within ~60 samples with dynamic PGO); the steady state is what a long-running watch costs.
    Thread.Sleep(TimeSpan.FromSeconds(3));
    double cpuStart = CpuSeconds(watch.Id);
    var wall = Stopwatch.StartNew();
    Thread.Sleep(TimeSpan.FromSeconds(warmupSeconds));
    double cpuWarm = CpuSeconds(watch.Id);
    double warmSeconds = wall.Elapsed.TotalSeconds;
    Thread.Sleep(TimeSpan.FromSeconds(cpuSeconds));
    double cpu = CpuSeconds(watch.Id) - cpuWarm;
    double seconds = wall.Elapsed.TotalSeconds - warmSeconds;
    Console.WriteLine($"cpu-warmup connections={clients.Count} seconds={warmSeconds:0.0} cpu_seconds={cpuWarm - cpuStart:0.00} cpu_percent_of_a_core={100 * (cpuWarm - cpuStart) / warmSeconds:0.00}");
    watch.Kill();
    watch.WaitForExit(TimeSpan.FromSeconds(10));
    Console.WriteLine($"cpu-steady connections={clients.Count} seconds={seconds:0.0} cpu_seconds={cpu:0.00} cpu_percent_of_a_core={100 * cpu / seconds:0.00} samples={lines} tick_seconds=0.01");
}
Console.WriteLine($"result ratio={lastRatio:0.000}");
foreach (var c in clients)
    c.Dispose();
foreach (var l in listeners)
    l.Dispose();
return 0;

static double Time(Action action)
{
    long started = Stopwatch.GetTimestamp();
    action();
    return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

static double Median(int runs, Func<double> measure)
{
    measure(); // warm-up: JIT, page cache
    var values = Enumerable.Range(0, runs).Select(_ => measure()).Order().ToList();
    return values[values.Count / 2];
}

// The whole cost a user pays for the baseline: starting the tool, its netlink/proc work, its output.
static double RunTool(LabHost host, string file, string arguments)
{
    var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
    long started = Stopwatch.GetTimestamp();
    using var process = host.StartProcess(start);
    process.StandardOutput.ReadToEnd();
    if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        throw new TimeoutException($"{file} did not finish within 30 s");
    return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

static string InUse(string sockstat)
{
    var line = sockstat.Split('\n').FirstOrDefault(l => l.StartsWith("TCP:", StringComparison.Ordinal)) ?? "";
    var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    int i = Array.IndexOf(fields, "inuse");
    return i >= 0 && i + 1 < fields.Length ? fields[i + 1] : "?";
}

// utime + stime of a process (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s).
static double CpuSeconds(int pid)
{
    string stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
}
