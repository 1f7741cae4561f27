namespace Halfway.Lab;

/// <summary>Both directions of a link and its drop rules.</summary>
internal sealed record LinkOptions
{
    public LinkImpairment ClientToServer { get; init; } = new();

    public LinkImpairment ServerToClient { get; init; } = new();

    public IReadOnlyList<DropRule> DropRules { get; init; } = [];

    /// <summary>Bytes of each packet kept for the capture; the rest is cut (the original length is kept).</summary>
    public int SnapLength { get; init; } = 256;
}
