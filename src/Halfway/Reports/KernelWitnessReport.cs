namespace Halfway.Reports;

/// <summary>
/// The server kernel's witness over one scenario: whether it ran (or the one line saying why not), what it saw in all,
/// and where its word confirms or contradicts the wire-only analysis.
/// </summary>
internal sealed record KernelWitnessReport(
    bool On,
    string? Missing,
    int Events,
    ulong Lost,
    SortedDictionary<string, int> DropsByListenerAndReason,
    int SynAckResends,
    int ResetsSent,
    int ResetsReceived,
    List<string> Findings);
