namespace Halfway.Reports;

/// <summary>
/// The server kernel's word about one connection: its drops of the connection's bare ACKs (the first one's time, reason
/// and the listener's accept queue then), the SYN-ACKs it re-sent and the RSTs; <see cref="Says"/> in one sentence.
/// </summary>
internal sealed record ConnectionKernelReport(
    int AckDrops,
    double? FirstAckDropAtMs,
    string? Reason,
    uint? AcceptQueue,
    uint? AcceptQueueLimit,
    int OtherDrops,
    int SynAckResends,
    int ResetsSent,
    int ResetsReceived,
    string? Says);
