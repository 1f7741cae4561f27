using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// Shard mode: the engine as one of several fed by <see cref="ShardedAnalysis"/>, each with the flows whose 4-tuple hashes
/// to it. Flows behave exactly as in a lone engine; what differs is who decides when to sweep (the coordinator, at the
/// lone engine's moments) and where finished connections go (a list the coordinator merges back into the lone engine's
/// order, so that they can reach the sink from one thread).
/// </summary>
public sealed partial class AnalysisEngine
{
    private readonly ShardState? _shard;

    /// <summary>An engine in shard mode: only <see cref="ShardedAnalysis"/> drives it.</summary>
    internal AnalysisEngine(AnalysisContext context, IConnectionSink sink, IShardReportFilter filter) : this(context, sink) =>
        _shard = new ShardState(filter);

    internal ShardState Shard => _shard ?? throw new InvalidOperationException("not an engine in shard mode");

    /// <summary>A packet of this shard's flows; <paramref name="index"/> is its number among all shards' packets.</summary>
    internal void AddShardPacket(long index, long atMicroseconds, in TcpSegment segment)
    {
        PacketsAnalysed++;
        if (atMicroseconds > _now)
            _now = atMicroseconds;
        Track(index, atMicroseconds, segment, 0, false);
    }

    /// <summary>
    /// The lone engine's sweep before packet <paramref name="index"/>: the same flows expire, and are reported in the
    /// order the lone engine would have enumerated them (its table's slots, <see cref="Flow.Slot"/>, assigned by the
    /// coordinator just before).
    /// </summary>
    internal void ShardSweep(long index, long now)
    {
        var shard = Shard;
        var expired = shard.Expired;
        expired.Clear();
        foreach (var flow in _flows.Values)
            if (Expired(flow, now))
                expired.Add(flow);
        expired.Sort(static (a, b) => a.Slot.CompareTo(b.Slot));
        shard.Order = 2 * index;
        foreach (var flow in expired)
            Retire(flow, now);
        expired.Clear();
        PurgeTombstones(now);
    }

    /// <summary>The coordinator tells a flow created since the last sweep which slot the lone engine's table gave it.</summary>
    internal void AssignSlot(FlowKey key, int slot)
    {
        if (!_flows.TryGetValue(key, out var flow))
            throw new InvalidOperationException("a flow created since the last sweep is missing from its shard");
        flow.Slot = slot;
    }

    internal Dictionary<FlowKey, Flow>.ValueCollection OpenFlowList => _flows.Values;

    /// <summary>At the end: one open flow, reported straight to the sink (the coordinator calls this in slot order, on one thread).</summary>
    internal void FinishDirect(Flow flow, long end)
    {
        Shard.Direct = true;
        Report(flow, Math.Max(end, flow.LastAt));
    }

    internal void ClearFlows() => _flows.Clear();

    /// <summary>What an engine in shard mode keeps for the coordinator between two sweeps.</summary>
    internal sealed class ShardState(IShardReportFilter filter)
    {
        /// <summary>Flows created (new table entries) since the last sweep, in packet order: the coordinator gives them slots.</summary>
        public readonly List<(long Index, FlowKey Key)> CreatedFlows = [];
        /// <summary>Finished connections since the last sweep, sorted by (Order, Slot), waiting to be merged.</summary>
        public readonly List<PendingReport> Pending = [];
        public readonly List<Flow> Expired = [];
        /// <summary>Where the connection being reported stands in the lone engine's order: 2 × packet index for a sweep before that packet, 2 × packet index + 1 for port reuse by that packet.</summary>
        public long Order;
        /// <summary>At the end, reports go straight to the sink.</summary>
        public bool Direct;

        public void Created(long index, FlowKey key, Flow flow)
        {
            flow.Slot = -1;
            CreatedFlows.Add((index, key));
        }

        /// <summary>Port reuse keeps the table entry: the new connection takes the old one's slot (or gets it with the entry's, at the next sweep).</summary>
        public void Reused(long index, Flow old, Flow flow)
        {
            flow.Slot = old.Slot;
            Order = 2 * index + 1;
        }

        public void Finished(Flow flow, in ConnectionSummary summary, ConnectionClassifier classifier, long end, bool serverSideObserved)
        {
            ConnectionReport? report = null;
            if (filter.MayWant(summary))
            {
                report = new ConnectionReport(flow, classifier.Finish(end, serverSideObserved));
                filter.Built(report);
            }
            Pending.Add(new PendingReport(Order, flow.Slot, summary, report));
        }
    }

    /// <summary>A finished connection waiting for the merge: its report is null when the sink was sure not to want it.</summary>
    internal readonly record struct PendingReport(long Order, int Slot, ConnectionSummary Summary, ConnectionReport? Report);
}
