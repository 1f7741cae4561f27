namespace Halfway.Analysis;

/// <summary>What the open-addressing tables (<see cref="FlowTable"/>, <see cref="TombstoneSet"/>) share: backward-shift deletion's test.</summary>
internal static class LinearProbing
{
    /// <summary>
    /// True when the entry at <paramref name="position"/>, whose home slot is <paramref name="home"/>, is still found by
    /// a lookup with a hole at <paramref name="hole"/>: its home lies cyclically in (hole, position]. Otherwise it must
    /// move into the hole.
    /// </summary>
    public static bool StillFound(int hole, int position, int home) =>
        hole <= position ? hole < home && home <= position : hole < home || home <= position;
}
