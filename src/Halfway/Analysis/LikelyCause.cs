namespace Halfway.Analysis;

/// <summary>
/// One cause of a listener's half-established (or unanswered) connections: how far this capture supports it, the
/// evidence in the capture, and what would confirm or rule it out on the server.
/// </summary>
internal sealed record LikelyCause(string Name, CauseSupport Support, string Evidence, string Confirm)
{
    /// <summary>The support as the reports name it.</summary>
    public string SupportName => Support switch
    {
        CauseSupport.Shown => "shown",
        CauseSupport.Supported => "supported",
        _ => "cannot tell from here",
    };
}
