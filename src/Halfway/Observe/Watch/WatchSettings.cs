using System.Net;

namespace Halfway.Observe.Watch;

/// <summary>What `halfway watch` was asked to do, already validated.</summary>
internal sealed record WatchSettings
{
    /// <summary>The listeners to watch; empty means every listener of the namespace.</summary>
    public IReadOnlyList<WatchTarget> Targets { get; init; } = [];

    /// <summary>A network namespace to enter (/proc/PID/ns/net, /run/netns/NAME); null: the current one.</summary>
    public string? NamespacePath { get; init; }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public bool Once { get; init; }

    public bool Json { get; init; }

    /// <summary>Redraw a table (a terminal) instead of appending plain lines.</summary>
    public bool Live { get; init; }

    /// <summary>Where to serve /metrics, in the namespace watch was started in; null: nowhere.</summary>
    public IPEndPoint? Prometheus { get; init; }

    /// <summary>Load the kernel witness (drops per listener and reason from the kernel's tracepoints).</summary>
    public bool KernelEvents { get; init; } = true;
}
