using Halfway.Observe;

namespace Halfway.Scenarios;

/// <summary>One step of every client connection.</summary>
internal sealed record Step
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
