using System.CommandLine;
using Halfway.Observe.Watch;

namespace Halfway.Cli.Commands;

/// <summary>`halfway watch`: read-only live monitor of real listeners' accept queues, SYN-RECV requests and drop counters.</summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var listeners = new Argument<string[]>("listener")
        {
            Description = "[ADDR:]PORT of the listeners to watch (IPv6 as [ADDR]:PORT); all listeners when none is given",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var netns = new Option<string?>("--netns")
        {
            Description = "Watch another network namespace: a /proc/PID/ns/net or /run/netns/NAME path (needs root)",
            HelpName = "PATH",
        };
        var interval = new Option<string>("--interval")
        {
            Description = "Time between samples: seconds (1, 0.5, 2s) or milliseconds (250ms)",
            DefaultValueFactory = _ => "1",
            HelpName = "SECONDS",
        };
        var once = new Option<bool>("--once") { Description = "Take one sample (deltas over one interval), print it, exit" };
        var json = new Option<bool>("--json") { Description = "One JSON object per sample, newline-delimited" };
        var prometheus = new Option<string?>("--prometheus")
        {
            Description = "Serve /metrics in the Prometheus text format at [ADDR:]PORT (loopback unless an address is given), in the namespace watch runs in",
            HelpName = "ADDR:PORT",
        };

        var noKernelEvents = new Option<bool>("--no-kernel-events")
        {
            Description = "Do not load the kernel witness (BPF tracepoints: handshake drops per listener and reason); on by default, root or CAP_BPF+CAP_PERFMON",
        };

        var command = new Command("watch",
            "Read-only live monitor of listeners: accept queue against its limit, SYN-RECV requests, listener drops, and the namespace's overflow counters per second");
        command.Arguments.Add(listeners);
        command.Options.Add(netns);
        command.Options.Add(interval);
        command.Options.Add(once);
        command.Options.Add(json);
        command.Options.Add(prometheus);
        command.Options.Add(noKernelEvents);
        command.SetAction(CommandRunner.Guard(async (parse, token) =>
        {
            var settings = new WatchSettings
            {
                Targets = (parse.GetValue(listeners) ?? []).Select(text => text.StartsWith('-')
                    ? throw new HalfwayException($"unknown option '{text}'; `halfway watch --help` lists the options")
                    : WatchTarget.Parse(text)).ToList(),
                NamespacePath = parse.GetValue(netns),
                Interval = WatchInterval.Parse(parse.GetValue(interval) ?? "1"),
                Once = parse.GetValue(once),
                Json = parse.GetValue(json),
                Live = !parse.GetValue(json) && !parse.GetValue(once) && !Console.IsOutputRedirected,
                Prometheus = parse.GetValue(prometheus) is { } address ? PrometheusEndpoint.ParseAddress(address) : null,
                KernelEvents = !parse.GetValue(noKernelEvents),
            };
            return await WatchSession.RunAsync(settings, Console.Out, token);
        }));
        return command;
    }
}
