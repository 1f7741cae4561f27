using Halfway.Lab;
using Halfway.Observe;

namespace Halfway.Scenarios;

/// <summary>One experiment: a lab, a server, clients and their steps, and a bound on its duration.</summary>
public sealed record Scenario
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";

    /// <summary>"quick" (timers lowered in the lab, waits scaled), "faithful" (kernel defaults, real waits) or "custom".</summary>
    public string Variant { get; init; } = "custom";

    /// <summary>Where the scenario came from: a file path or "built-in:NAME".</summary>
    public string Source { get; init; } = "";

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public Topology Topology { get; init; } = Topology.Pair;
    public LinkOptions Link { get; init; } = new();

    /// <summary>net.* settings per host role ("client", "server"); a single topology applies both to its one host.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KernelSetting>> Kernel { get; init; } =
        new Dictionary<string, IReadOnlyList<KernelSetting>>();

    public ServerSpec Server { get; init; } = new();
    public ClientSpec Clients { get; init; } = new();

    /// <summary>Lines the report prints about what a quick variant cannot shorten or shows differently.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>
/// One net.* setting of the scenario, with where it was written (line, and field as written, e.g. kernel.host.NAME),
/// so that a value the kernel refuses at preflight is reported at its line.
/// </summary>
public sealed record KernelSetting(string Name, string Value)
{
    public int Line { get; init; }
    public string Field { get; init; } = "";
}

/// <summary>The listener and how the application behind it accepts and answers.</summary>
public sealed record ServerSpec
{
    public int Port { get; init; } = 8080;
    public int Backlog { get; init; } = 5;
    public AcceptPolicy Accept { get; init; } = new();

    /// <summary>Bytes sent back for each message received; null: never reply.</summary>
    public string? Reply { get; init; } = "Pong";

    /// <summary>Bytes sent right after accept; null: no greeting.</summary>
    public string? Greeting { get; init; }

    /// <summary>TCP_DEFER_ACCEPT seconds on the listener; null: off.</summary>
    public int? DeferAcceptSeconds { get; init; }
}

public enum AcceptMode
{
    /// <summary>As fast as the acceptors can.</summary>
    Immediately,

    /// <summary>Never calls accept(): the queue fills and stays full.</summary>
    Never,

    /// <summary>At most Rate connections per second: an overloaded server.</summary>
    Rate,
}

/// <summary>When the application calls accept(): a mode, a start delay and paused windows.</summary>
public sealed record AcceptPolicy
{
    public AcceptMode Mode { get; init; } = AcceptMode.Immediately;
    public double Rate { get; init; }
    public TimeSpan StartAfter { get; init; }
    public IReadOnlyList<(TimeSpan From, TimeSpan Until)> Pauses { get; init; } = [];

    /// <summary>Concurrent accept loops (the seed's server had 4 acceptor threads).</summary>
    public int Acceptors { get; init; } = 1;

    public override string ToString()
    {
        string text = Mode switch
        {
            AcceptMode.Never => "never accepts",
            AcceptMode.Rate => $"accepts {Rate:0.##}/s",
            _ => $"accepts immediately ({Acceptors} acceptor{(Acceptors == 1 ? "" : "s")})",
        };
        if (StartAfter > TimeSpan.Zero) text += $", from +{StartAfter.TotalSeconds:0.###} s";
        foreach (var (from, until) in Pauses) text += $", paused +{from.TotalSeconds:0.###}..+{until.TotalSeconds:0.###} s";
        return text;
    }
}

/// <summary>The clients: how many connections, how fast they start, their socket options and steps.</summary>
public sealed record ClientSpec
{
    public int Count { get; init; } = 1;

    /// <summary>Connections started per second; null: all at once.</summary>
    public double? Rate { get; init; }

    /// <summary>Seeds per-connection random draws (wait ranges).</summary>
    public int Seed { get; init; } = 1;

    public SocketOptions Options { get; init; } = new();
    public IReadOnlyList<Step> Steps { get; init; } = [];
}

/// <summary>Socket options set before connect().</summary>
public sealed record SocketOptions
{
    public TimeSpan? UserTimeout { get; init; }
    public TimeSpan? KeepAliveIdle { get; init; }
    public TimeSpan? KeepAliveInterval { get; init; }
    public int? KeepAliveCount { get; init; }
    public bool? NoDelay { get; init; }
    public int? LingerSeconds { get; init; }

    public bool KeepAlive => KeepAliveIdle is not null || KeepAliveInterval is not null || KeepAliveCount is not null;
}

/// <summary>One step of every client connection.</summary>
public sealed record Step
{
    public required ClientStep Kind { get; init; }

    /// <summary>connect/receive: how long to wait for the call; wait: the lower bound of the wait.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>wait: the lower and upper bound; equal for a fixed wait.</summary>
    public TimeSpan WaitMin { get; init; }
    public TimeSpan WaitMax { get; init; }

    /// <summary>send: the bytes.</summary>
    public string Data { get; init; } = "";

    /// <summary>shutdown: "write", "read" or "both".</summary>
    public string How { get; init; } = "write";

    public int Line { get; init; }

    public string Name => Kind.Name();

    public override string ToString() => Kind switch
    {
        ClientStep.Wait when WaitMin == WaitMax => $"wait {Durations.Format(WaitMin)}",
        ClientStep.Wait => $"wait {Durations.Format(WaitMin)}..{Durations.Format(WaitMax)}",
        ClientStep.Send => $"send \"{Data}\"",
        ClientStep.Receive or ClientStep.Connect when Timeout is { } t => $"{Name} (timeout {Durations.Format(t)})",
        ClientStep.Shutdown => $"shutdown {How}",
        _ => Name,
    };
}
