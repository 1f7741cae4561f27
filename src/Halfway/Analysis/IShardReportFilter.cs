namespace Halfway.Analysis;

/// <summary>
/// One shard's guess, on its own thread, whether the sink will want a connection's report: the shard builds the report
/// unless the answer is certainly no, so that the sink, fed later in the lone engine's order, always has it when it wants it.
/// </summary>
public interface IShardReportFilter
{
    /// <summary>False only if <see cref="IConnectionSink.WantsReport"/> is sure to say no to this connection, whatever the other shards finish.</summary>
    bool MayWant(in ConnectionSummary summary);
    /// <summary>A report this shard built (it may count toward what makes the sink stop wanting reports).</summary>
    void Built(ConnectionReport report);
}
