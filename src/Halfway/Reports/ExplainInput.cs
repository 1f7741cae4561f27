using Halfway.Capture;

namespace Halfway.Reports;

/// <summary>
/// What `halfway explain` read, for its writers: the files named, and what the reader saw in them (null when nothing
/// was read, as in tests that feed packets directly). Apart from the report, which holds only what the analysis found.
/// </summary>
internal sealed record ExplainInput(IReadOnlyList<string> Files, CaptureReadSummary? Read);
