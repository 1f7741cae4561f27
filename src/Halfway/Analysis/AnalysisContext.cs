namespace Halfway.Analysis;

/// <summary>What the engine and the explainer know about the observation as a whole.</summary>
internal sealed record AnalysisContext
{
    /// <summary>When observation ended (µs, same clock as the observations); null = the last observation's time.</summary>
    public long? EndMicroseconds { get; init; }
    /// <summary>The server's socket table and accept() calls were observed (lab runs): their absence is then evidence.</summary>
    public bool ServerSideObserved { get; init; }
    /// <summary>The listener's accept-queue limit (sock_diag idiag_wqueue), when known.</summary>
    public int? AcceptQueueLimit { get; init; }
    /// <summary>A flow with no packet for this long is finished (its fate is decided at that moment).</summary>
    public long IdleTimeoutMicroseconds { get; init; } = 300_000_000;
    /// <summary>
    /// The source created every connection and knows how long each lasted (a lab run): a flow then ends only when
    /// observation ends or a new connection (a SYN with another ISN) takes its 4-tuple — never after a silence or a RST,
    /// which a capture file must guess from (a client quiet for 5 minutes, or a call seconds after a RST, is still the
    /// same connection).
    /// </summary>
    public bool ConnectionLifetimesKnown { get; init; }
}
