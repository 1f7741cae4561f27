using System.Net;
using Halfway.Lab;
using Halfway.Native;
using Halfway.Observe;
using Halfway.Scenarios;
using Halfway.Traffic;

namespace Halfway.Runs;

/// <summary>
/// Runs one scenario in a lab of its own: builds the hosts and link, applies the kernel settings,
/// starts the observers, the server and the clients, stops at the last step or at the duration
/// bound, and returns every measurement. The lab vanishes when it returns.
/// </summary>
internal static class ScenarioRunner
{
    /// <summary>Settings recorded in every report, whether the scenario changes them or not.</summary>
    public static readonly string[] RecordedSettings =
    [
        "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_retries",
        "net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_retries2", "net.ipv4.ip_local_port_range",
    ];

    /// <summary>How long after the clients end the observers keep watching, for the last packets to cross.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Checks what can be checked before any lab starts: the fd budget and every kernel setting and value
    /// (written in a throwaway namespace, never the host's).
    /// </summary>
    public static void Preflight(IReadOnlyList<Scenario> scenarios)
    {
        LabPrivileges.Require();
        ulong limit = Libc.RaiseFileLimit();
        long needed = 256 + scenarios.Sum(s => 2L * s.Clients.Count + 8);
        if ((ulong)needed > limit)
            throw new HalfwayException(
                $"these scenarios need about {needed} file descriptors (2 per connection: the client's socket and the server's accepted one) but this process may open {limit} (RLIMIT_NOFILE); lower clients.count, or run fewer scenarios at once");
        // Without the TUN driver a pair lab fails after the lab is half built, with an errno; say so now, with the fix.
        if (scenarios.Any(s => s.Topology == Topology.Pair) && !File.Exists("/dev/net/tun"))
            throw new LabException("/dev/net/tun does not exist: a pair lab's link is a TUN device; load the driver (modprobe tun) or, in a container, pass the device (--device /dev/net/tun --cap-add NET_ADMIN), or use a single-topology scenario");
        foreach (var scenario in scenarios)
            ProgramRuns.Check(scenario);
        using var probe = LabHost.Create("preflight");
        foreach (var scenario in scenarios)
        {
            foreach (var settings in scenario.Kernel.Values)
            {
                foreach (var setting in settings)
                {
                    try
                    {
                        probe.Settings.Write(setting.Name, setting.Value);
                    }
                    catch (LabException e)
                    {
                        throw new ScenarioException(scenario.Source, setting.Line, setting.Field, e.Message);
                    }
                }
            }
        }
    }

    public static async Task<ScenarioRun> RunAsync(Scenario scenario, Action<RunProgress>? progress, CancellationToken cancel, bool kernelEvents = true)
    {
        var clock = new LabClock();
        var run = new ScenarioRun { Scenario = scenario, StartedAt = clock.StartedAt };
        var packets = run.Packets;
        Action<LinkPacket> capture = packet =>
        {
            lock (packets)
                packets.Add(packet);
        };
        using var lab = scenario.Topology == Topology.Pair
            ? LabNetwork.CreatePair(scenario.Name, scenario.Link, capture, (client, server) => Configure(run, scenario, client, server), clock)
            : CreateSingle(run, scenario, clock);
        run.ServerAddress = new IPEndPoint(lab.ServerAddress, scenario.Server.Port).ToString();

        using var loopbackCapture = scenario.Topology == Topology.Single
            ? LoopbackCapture.Start(lab.Server, clock, scenario.Server.Port, capture, scenario.Link.SnapLength)
            : null;
        var countersBefore = lab.Hosts.ToDictionary(h => RoleOf(lab, h), h => h.Run(KernelCounters.ReadCurrentNamespace));
        using var sampler = ServerTableRecorder.TryStart(lab.Server, scenario.Server.Port, clock, run);
        using var witness = kernelEvents ? StartWitness(lab, scenario, clock, run) : null;
        // A program server replaces the built-in one; the clients start only once it listens.
        using var program = ProgramRuns.StartServer(lab.Server, scenario, clock, run);
        var server = program is null ? TrafficServer.Start(lab.Server, scenario.Server, clock) : null;
        var client = new TrafficClient(scenario.Clients, clock, new IPEndPoint(lab.ServerAddress, scenario.Server.Port));
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bound.CancelAfter(scenario.Duration);
        // When the signal came, not when the clients had wound down: the report says until when it is complete.
        var interrupted = cancel.Register(() => run.InterruptedAtMs ??= Math.Round(clock.NowMilliseconds, 1));
        var clients = scenario.Clients.Program is null
            ? client.RunAsync(lab.Client, bound.Token)
            : ProgramRuns.RunClientsAsync(lab.Client, scenario, new IPEndPoint(lab.ServerAddress, scenario.Server.Port), clock, run, bound.Token);
        double boundMs = scenario.Duration.TotalMilliseconds;
        string serverRole = RoleOf(lab, lab.Server);
        double nextCounterSample = 0;
        while (!clients.IsCompleted)
        {
            await Task.WhenAny(clients, Task.Delay(250, CancellationToken.None));
            if (clock.NowMilliseconds >= nextCounterSample)
            {
                nextCounterSample = clock.NowMilliseconds + 1000;
                var now = lab.Server.Run(KernelCounters.ReadCurrentNamespace);
                run.CounterSamples.Add(new CounterSnapshot(Math.Round(clock.NowMilliseconds, 1), KernelCounters.Delta(countersBefore[serverRole], now)));
            }
            ProgramRuns.NoteEarlyExit(program, run);
            progress?.Invoke(new RunProgress(scenario.Name, clock.NowMilliseconds, boundMs, scenario.Clients.Count,
                client.Connected, AcceptCount(server, run), client.Finished, "running") { Programs = ProgramsNow(scenario, run) });
        }
        await clients;
        // An interrupted run still ends like any other (grace, counters, server and link closed): what it saw is reported.
        await interrupted.DisposeAsync();
        run.Interrupted = cancel.IsCancellationRequested;
        if (!run.Interrupted)
            run.InterruptedAtMs = null;
        run.ReachedBound = bound.IsCancellationRequested && !run.Interrupted;
        progress?.Invoke(new RunProgress(scenario.Name, clock.NowMilliseconds, boundMs, scenario.Clients.Count,
            client.Connected, AcceptCount(server, run), client.Finished, "finishing") { Programs = ProgramsNow(scenario, run) });
        await Task.Delay(Grace, CancellationToken.None);
        // The last sample must see what the program had accepted by then, not race its next accept().
        program?.Freeze();
        sampler?.Stop();
        if (witness is not null)
        {
            run.KernelEvents.AddRange(witness.Stop());
            run.KernelEventsLost = witness.Lost;
            if (run.KernelEventsLost > 0)
                run.Warnings.Add($"the kernel witness lost {run.KernelEventsLost} events (its ring buffer was full): the kernel's events are incomplete");
        }
        foreach (var host in lab.Hosts)
        {
            var after = host.Run(KernelCounters.ReadCurrentNamespace);
            run.Counters[RoleOf(lab, host)] = KernelCounters.Delta(countersBefore[RoleOf(lab, host)], after);
        }
        run.ServerStoppedAtMicroseconds = clock.NowMicroseconds;
        if (server is not null)
        {
            await server.DisposeAsync();
            run.ServerEvents.AddRange(server.Events.OrderBy(e => e.AtMs));
        }
        ProgramRuns.Finish(program, run);
        run.Connections = client.Connections;
        run.DurationMs = clock.NowMilliseconds;
        if (lab.Link is not null)
        {
            foreach (var host in lab.Hosts)
            {
                long drops = TunLink.QueueDrops(host);
                if (drops > 0)
                    run.Warnings.Add($"the link's queue in the {RoleOf(lab, host)} host overflowed: the kernel dropped {drops} packets before the link saw them (the forwarder fell behind); they are missing from the capture, and no drop rule caused them");
            }
        }
        lab.Link?.Dispose();
        loopbackCapture?.Dispose();
        run.LinkPacketsSeen = lab.Link?.PacketsSeen ?? loopbackCapture?.PacketsSeen ?? 0;
        run.LinkPacketsDropped = lab.Link?.PacketsDropped ?? 0;
        run.LinkPacketsInFlight = lab.Link?.PacketsInFlight ?? 0;
        lock (packets)
        {
            // Stable: packets the link read in the same microsecond keep the order it read them in.
            var inOrder = packets.OrderBy(p => p.SeenAtMicroseconds).ToList();
            packets.Clear();
            packets.AddRange(inOrder);
        }
        if (scenario.Clients.Program is not null)
            run.Connections = ProgramRuns.ConnectionsFromWire(run, new IPEndPoint(lab.ServerAddress, scenario.Server.Port));
        return run;
    }

    /// <summary>The server kernel's witness, filtered to the server's namespace; null (and one line in the report) when it cannot run.</summary>
    private static KernelWitness? StartWitness(LabNetwork lab, Scenario scenario, LabClock clock, ScenarioRun run)
    {
        ushort port = (ushort)scenario.Server.Port;
        KernelWitness? witness = null;
        string? why;
        try
        {
            uint inode = lab.Server.Run(KernelWitness.CurrentNamespaceInode);
            // On a single host both ends are in the namespace: an event about a packet from the server port is the client's end.
            witness = KernelWitness.TryStart(inode, clock.ToMicroseconds, (local, remote) => !(remote.Port == port && local.Port != port), null, out why);
        }
        catch (IOException e)
        {
            why = $"the server's namespace could not be identified: {e.Message}";
        }
        run.KernelWitnessOn = witness is not null;
        if (witness is null)
        {
            run.KernelWitnessMissing = why;
            run.Warnings.Add($"kernel witness off: {why}");
        }
        return witness;
    }

    private static ClientProgramProgress.Snapshot? ProgramsNow(Scenario scenario, ScenarioRun run) =>
        scenario.Clients.Program is null ? null : run.ClientProgress.Now(scenario.Clients.Count);

    private static long AcceptCount(TrafficServer? server, ScenarioRun run)
    {
        if (server is not null)
            return server.AcceptCount;
        lock (run.SocketsOwned)
            return run.SocketsOwned.Count;
    }

    private static LabNetwork CreateSingle(ScenarioRun run, Scenario scenario, LabClock clock)
    {
        var lab = LabNetwork.CreateSingle(scenario.Name, clock);
        try
        {
            Configure(run, scenario, lab.Client, lab.Server);
            run.Warnings.Add("single topology: packets are captured on lo (AF_PACKET); with no link delay the handshake completes inside connect(), so the accept-queue race needs a full queue before the SYN");
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    private static string RoleOf(LabNetwork lab, LabHost host) =>
        ReferenceEquals(lab.Client, lab.Server) ? "host" : ReferenceEquals(host, lab.Client) ? "client" : "server";

    /// <summary>Applies the scenario's settings per host and records defaults and values in force.</summary>
    private static void Configure(ScenarioRun run, Scenario scenario, LabHost client, LabHost server)
    {
        bool single = ReferenceEquals(client, server);
        foreach (var (role, host) in single ? new[] { ("host", server) } : new[] { ("client", client), ("server", server) })
        {
            var names = RecordedSettings.Where(n => Exists(host, n)).ToList();
            var wanted = single
                ? scenario.Kernel.Values.SelectMany(v => v).ToList()
                : scenario.Kernel.GetValueOrDefault(role)?.ToList() ?? [];
            foreach (var (name, _) in wanted)
            {
                if (!names.Contains(name))
                    names.Add(name);
            }
            var defaults = host.Settings.Snapshot(names);
            foreach (var (name, value) in wanted)
            {
                host.Settings.Write(name, value);
                if (defaults[name] != host.Settings.Written[name])
                    run.Changed.Add(new ChangedSetting(role, name, defaults[name], host.Settings.Written[name]));
            }
            run.Settings[role] = host.Settings.Snapshot(names);
        }
    }

    private static bool Exists(LabHost host, string name) =>
        host.Run(() => File.Exists("/proc/sys/" + name.Replace('.', '/')));
}
