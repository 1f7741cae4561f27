namespace Halfway.Observe.Watch;

/// <summary>
/// Runs `halfway watch`: enters the namespace if asked, samples once per interval, writes each
/// sample (JSON line, plain lines or a live table) and publishes it to the Prometheus endpoint.
/// </summary>
internal static class WatchSession
{
    public static async Task<int> RunAsync(WatchSettings settings, TextWriter output, CancellationToken token)
    {
        if (settings.Once && settings.Prometheus is not null)
            throw new HalfwayException("--once and --prometheus cannot be combined: a scrape needs a running watch");
        using var namespaceThread = settings.NamespacePath is { } path ? NamespaceThread.Enter(path) : null;
        T InNamespace<T>(Func<T> action) => namespaceThread is null ? action() : namespaceThread.Run(action);

        using var sampler = InNamespace(() => Guarded(() => new WatchSampler(settings.Targets, NamespaceName(settings.NamespacePath))));
        var tally = settings.KernelEvents ? new HandshakeDropTally() : null;
        string witnessState = "off (--no-kernel-events)";
        KernelWitness? witness = null;
        if (tally is not null)
        {
            string? why;
            try
            {
                uint inode = InNamespace(KernelWitness.CurrentNamespaceInode);
                witness = KernelWitness.TryStart(inode, stopwatch => stopwatch / 1000, null, tally.Add, out why, listenerDropsOnly: true);
            }
            catch (IOException e)
            {
                why = $"the namespace could not be identified: {e.Message}";
            }
            witnessState = witness is null ? $"off: {why}" : "on";
            // Watch goes on without it: the socket table and counters are read as before.
            if (witness is null)
                await Console.Error.WriteLineAsync($"halfway: kernel witness off: {why}");
        }
        using var witnessLifetime = witness;
        using var endpoint = settings.Prometheus is { } address ? PrometheusEndpoint.Start(address) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var serving = endpoint?.ServeAsync(stop.Token) ?? Task.CompletedTask;
        if (endpoint is not null)
            await Console.Error.WriteLineAsync($"halfway: serving Prometheus metrics at http://{Format(endpoint.LocalEndpoint)}/metrics");
        // A periodic timer keeps a steady cadence: the sample's own time does not push the next one later.
        using var timer = new PeriodicTimer(settings.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                var sample = InNamespace(() => Guarded(sampler.Sample)) with
                {
                    KernelWitness = witnessState,
                    HandshakeDrops = tally?.TakeInterval() ?? [],
                    KernelEventsLost = witness?.Lost ?? 0,
                };
                endpoint?.Publish(PrometheusExposition.Format(sample));
                string text = settings.Json ? JsonSampleWriter.Format(sample) + "\n"
                    : settings.Live ? LiveTableWriter.Format(sample)
                    : PlainSampleWriter.Format(sample);
                await output.WriteAsync(text);
                await output.FlushAsync(token);
                if (settings.Once)
                    break;
            }
            return 0;
        }
        finally
        {
            stop.Cancel();
            endpoint?.Dispose();
            await serving;
        }
    }

    private static string Format(System.Net.IPEndPoint endpoint) =>
        endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : endpoint.ToString();

    /// <summary>The namespace's identity as the kernel names it (net:[inode]), with the path it was entered by.</summary>
    private static string NamespaceName(string? path)
    {
        string identity = new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? "net:[?]";
        return path is null ? identity : $"{identity} ({path})";
    }

    /// <summary>Turns a failure of the kernel interfaces into a one-line user error.</summary>
    private static T Guarded<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (IOException e)
        {
            throw new HalfwayException($"cannot read the namespace's sockets or counters: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HalfwayException($"cannot read the namespace's sockets or counters: {e.Message}; run as root");
        }
    }

}
