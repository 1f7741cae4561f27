namespace Halfway.Capture;

/// <summary>What reading capture files gave: counts, warnings, and whether every file was read whole.</summary>
internal sealed record CaptureReadSummary(
    long Frames,
    long TcpPackets,
    long FilteredOut,
    long NotTcp,
    IReadOnlyList<CaptureWarning> Warnings,
    bool Damaged,
    long? FirstTimestampMicroseconds,
    long? LastTimestampMicroseconds);
