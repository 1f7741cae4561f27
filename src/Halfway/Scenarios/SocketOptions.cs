namespace Halfway.Scenarios;

/// <summary>Socket options set before connect().</summary>
internal sealed record SocketOptions
{
    public TimeSpan? UserTimeout { get; init; }
    public TimeSpan? KeepAliveIdle { get; init; }
    public TimeSpan? KeepAliveInterval { get; init; }
    public int? KeepAliveCount { get; init; }
    public bool? NoDelay { get; init; }
    public int? LingerSeconds { get; init; }

    public bool KeepAlive => KeepAliveIdle is not null || KeepAliveInterval is not null || KeepAliveCount is not null;
}
