namespace Halfway.Reports;

/// <summary>One change that would have helped the connections of the named fates in this run, on which side, and what it costs.</summary>
internal sealed record RemedyReport(string Side, List<string> Fates, string Change, string Cost);
