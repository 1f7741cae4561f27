namespace Halfway.Capture.Parallel;

/// <summary>
/// One shard's share of a batch of capture packets (see <see cref="SplitEngine"/>): which packets are its own, and the
/// sweeps one engine fed every packet would have run between them.
/// </summary>
internal sealed class ShardPlan(int length)
{
    /// <summary>The ordinal of the batch's first packet (packets counted since the engine was split).</summary>
    public long FirstOrdinal;
    /// <summary>Indices in the batch of the shard's own packets, in order.</summary>
    public readonly int[] Mine = new int[length];
    public int MineCount;
    /// <summary>Before the packet at the index, a sweep at the time.</summary>
    public readonly List<(int Index, long At)> Sweeps = [];
}
