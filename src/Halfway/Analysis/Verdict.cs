namespace Halfway.Analysis;

/// <summary>The classifier's answer for one connection.</summary>
/// <param name="Kind">"request-socket", "syncookie", or null when the evidence does not say.</param>
/// <param name="Reason">One line saying which evidence decided the fate (or why it stays unknown).</param>
internal sealed record Verdict(
    Fate Fate,
    bool HalfEstablished,
    string? Kind,
    string Reason,
    long? ConnectedAtMicroseconds,
    long? ServerCompletedAtMicroseconds,
    long? AcceptedAtMicroseconds,
    IReadOnlyList<ConnectionEvent> Evidence)
{
    /// <summary>The moments and counts the classifier established on the way to the fate.</summary>
    public ConnectionFacts Facts { get; init; }
}
