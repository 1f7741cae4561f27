using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// The analysis of a big capture on several cores: flows are shared out by their 4-tuple (both directions hash alike)
/// among engines in shard mode. Shard 0 runs on the reading thread itself; the others run on worker threads, fed with
/// batches of parsed segments (a thread per core: handing every packet over would cost more than half the analysis). The sink
/// receives the finished connections in exactly the order one engine would have given them, so the report is the same
/// byte for byte, whatever the threads' timing.
/// </summary>
/// <remarks>
/// A lone engine finishes connections at three moments: port reuse (at a packet), sweeps (before a packet, every 5 s of
/// capture time, in the order its flow table enumerates its entries) and the end (the same enumeration). The reading
/// thread numbers the packets and decides when the lone engine would sweep; every shard sweeps at that moment. The table's
/// enumeration order is its entries' slots, which depend only on the sequence of insertions and removals (a removed
/// slot goes on top of a free list, an insertion takes the top or the next new slot), so the coordinator replays that
/// sequence: at each sweep, with the shards waiting at a barrier, it merges what they finished since the last sweep into
/// the sink (freeing the slots the last sweep emptied) and gives the flows created since then their slots; each shard
/// then reports its expired flows in slot order. Memory stays bounded: the queues hold a few batches, and the finished
/// connections wait at most one sweep interval.
/// </remarks>
public sealed class ShardedAnalysis : IPacketTarget, IDisposable
{
    private const int BatchSize = 1024;
    private const int QueuedBatches = 4;

    private readonly AnalysisContext _context;
    private readonly IConnectionSink _sink;
    private readonly AnalysisEngine[] _engines;
    // Per worker shard (index 0, the reading thread's shard, has none).
    private readonly BlockingCollection<Batch>[] _queues;
    private readonly ConcurrentQueue<Batch>[] _freeBatches;
    private readonly Batch[] _current;
    private readonly Thread[] _threads;
    private readonly Barrier _barrier;
    private readonly CancellationTokenSource _stop = new();
    private ExceptionDispatchInfo? _failure;
    private bool _finished;

    // The reading thread's view: what the lone engine's Advance would have done.
    private long _index;
    private long _now = long.MinValue;
    private long _nextSweepAt = long.MinValue;

    // The lone engine's flow table, replayed: its free list and its count of slots ever used.
    private readonly Stack<int> _freeSlots = new();
    private int _slotCount;

    public ShardedAnalysis(AnalysisContext context, IConnectionSink sink, int shards = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        _context = context;
        _sink = sink;
        _engines = new AnalysisEngine[shards];
        _queues = new BlockingCollection<Batch>[shards];
        _freeBatches = new ConcurrentQueue<Batch>[shards];
        _current = new Batch[shards];
        _threads = new Thread[shards - 1];
        _barrier = new Barrier(shards, _ => BetweenSweeps());
        for (int i = 0; i < shards; i++)
        {
            _engines[i] = new AnalysisEngine(context, sink, sink.CreateShardFilter() ?? BuildEvery.Instance);
            if (i == 0)
                continue; // the reading thread's
            _queues[i] = new BlockingCollection<Batch>(QueuedBatches);
            _freeBatches[i] = new ConcurrentQueue<Batch>();
            _current[i] = new Batch();
            int shard = i;
            _threads[i - 1] = new Thread(() => Work(shard)) { IsBackground = true, Name = $"halfway shard {i}" };
            _threads[i - 1].Start();
        }
    }

    public long PacketsAnalysed => _index;
    public long ConnectionsFinished => _engines.Sum(e => e.ConnectionsFinished);
    public long StragglersIgnored => _engines.Sum(e => e.StragglersIgnored);

    /// <summary>On the reading thread, in capture order.</summary>
    public void AddPacket(long atMicroseconds, in TcpSegment segment)
    {
        long index = _index++;
        if (atMicroseconds > _now)
            _now = atMicroseconds;
        if (_nextSweepAt == long.MinValue)
            _nextSweepAt = atMicroseconds + AnalysisEngine.SweepIntervalMicroseconds;
        else if (atMicroseconds >= _nextSweepAt)
        {
            _nextSweepAt = atMicroseconds + AnalysisEngine.SweepIntervalMicroseconds;
            // Each worker gets the sweep at once (its batch is sent unfilled: a shard with few packets must not keep the others waiting).
            for (int i = 1; i < _engines.Length; i++)
            {
                Append(i, -1 - index, atMicroseconds, default);
                if (_current[i].Count > 0)
                    Send(i);
            }
            SignalAndWait();
            _engines[0].ShardSweep(index, atMicroseconds);
        }
        int shard = ShardOf(segment);
        if (shard == 0)
            _engines[0].AddShardPacket(index, atMicroseconds, segment);
        else
            Append(shard, index, atMicroseconds, segment);
    }

    private void SignalAndWait()
    {
        try
        {
            _barrier.SignalAndWait(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            _failure?.Throw();
            throw;
        }
        catch (BarrierPostPhaseException e) when (e.InnerException is { } inner)
        {
            ExceptionDispatchInfo.Throw(inner);
        }
    }

    /// <summary>Symmetric in the two endpoints, so that both directions of a connection reach the same shard.</summary>
    private int ShardOf(in TcpSegment segment)
    {
        ulong h = (ulong)(segment.Source.Port ^ segment.Destination.Port)
            ^ (ulong)segment.Source.Address ^ (ulong)segment.Destination.Address
            ^ (ulong)(segment.Source.Address >> 64) ^ (ulong)(segment.Destination.Address >> 64);
        h *= 0x9E3779B97F4A7C15UL;
        return (int)((h >> 32) * (ulong)_engines.Length >> 32);
    }

    private void Append(int shard, long index, long at, in TcpSegment segment)
    {
        var batch = _current[shard];
        ref var item = ref batch.Items[batch.Count++];
        item.Index = index;
        item.At = at;
        item.Segment = segment;
        if (batch.Count == BatchSize)
            Send(shard);
    }

    private void Send(int shard)
    {
        try
        {
            _queues[shard].Add(_current[shard], _stop.Token);
        }
        catch (OperationCanceledException)
        {
            _failure?.Throw();
            throw;
        }
        _current[shard] = _freeBatches[shard].TryDequeue(out var free) ? free : new Batch();
    }

    private void Work(int shard)
    {
        var engine = _engines[shard];
        try
        {
            foreach (var batch in _queues[shard].GetConsumingEnumerable(_stop.Token))
            {
                var items = batch.Items;
                for (int i = 0; i < batch.Count; i++)
                {
                    ref readonly var item = ref items[i];
                    if (item.Index >= 0)
                        engine.AddShardPacket(item.Index, item.At, item.Segment);
                    else
                    {
                        _barrier.SignalAndWait(_stop.Token);
                        engine.ShardSweep(-1 - item.Index, item.At);
                    }
                }
                batch.Count = 0;
                _freeBatches[shard].Enqueue(batch);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            var failure = e is BarrierPostPhaseException { InnerException: { } inner } ? inner : e;
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(failure), null);
            _stop.Cancel();
        }
    }

    /// <summary>With every shard waiting at a sweep: hand over what they finished since the last sweep, then give slots to the new flows.</summary>
    private void BetweenSweeps()
    {
        MergeFinished();
        AssignSlots();
    }

    /// <summary>Each shard's pending list is sorted by (Order, Slot): a merge gives the lone engine's order.</summary>
    private void MergeFinished()
    {
        var lists = new List<AnalysisEngine.PendingReport>[_engines.Length];
        var next = new int[_engines.Length];
        for (int i = 0; i < _engines.Length; i++)
            lists[i] = _engines[i].Shard.Pending;
        while (true)
        {
            int best = -1;
            for (int i = 0; i < lists.Length; i++)
            {
                if (next[i] == lists[i].Count)
                    continue;
                if (best < 0 || Before(lists[i][next[i]], lists[best][next[best]]))
                    best = i;
            }
            if (best < 0)
                break;
            var pending = lists[best][next[best]++];
            if ((pending.Order & 1) == 0)
                _freeSlots.Push(pending.Slot); // a sweep removed its entry
            if (_sink.WantsReport(pending.Summary))
                _sink.Add(pending.Report ?? throw new InvalidOperationException($"a shard did not build the report of {pending.Summary.Client} -> {pending.Summary.Server}, which the sink wants"));
            else
                _sink.Count(pending.Summary);
        }
        foreach (var list in lists)
            list.Clear();
    }

    private static bool Before(in AnalysisEngine.PendingReport a, in AnalysisEngine.PendingReport b) =>
        a.Order < b.Order || (a.Order == b.Order && a.Slot < b.Slot);

    /// <summary>Flows created since the last sweep, in packet order, take slots as the lone engine's insertions would have.</summary>
    private void AssignSlots()
    {
        var lists = new List<(long Index, FlowKey Key)>[_engines.Length];
        var next = new int[_engines.Length];
        for (int i = 0; i < _engines.Length; i++)
            lists[i] = _engines[i].Shard.CreatedFlows;
        while (true)
        {
            int best = -1;
            for (int i = 0; i < lists.Length; i++)
            {
                if (next[i] == lists[i].Count)
                    continue;
                if (best < 0 || lists[i][next[i]].Index < lists[best][next[best]].Index)
                    best = i;
            }
            if (best < 0)
                break;
            var created = lists[best][next[best]++];
            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotCount++;
            _engines[best].AssignSlot(created.Key, slot);
        }
        foreach (var list in lists)
            list.Clear();
    }

    /// <summary>Ends the observation: waits for the shards, then reports every open flow in the lone engine's order.</summary>
    public void Finish()
    {
        if (_finished)
            throw new InvalidOperationException("Finish was called already");
        _finished = true;
        for (int i = 1; i < _engines.Length; i++)
        {
            if (_current[i].Count > 0)
                Send(i);
            _queues[i].CompleteAdding();
        }
        foreach (var thread in _threads)
            thread.Join();
        _failure?.Throw();
        BetweenSweeps();
        long end = _context.EndMicroseconds ?? _now;
        var bySlot = new (int Shard, Flow? Flow)[_slotCount];
        for (int i = 0; i < _engines.Length; i++)
            foreach (var flow in _engines[i].OpenFlowList)
                bySlot[flow.Slot] = (i, flow);
        foreach (var (shard, flow) in bySlot)
            if (flow is not null)
                _engines[shard].FinishDirect(flow, end);
        foreach (var engine in _engines)
            engine.ClearFlows();
    }

    public void Dispose()
    {
        if (_threads.Any(t => t.IsAlive))
        {
            _stop.Cancel();
            foreach (var thread in _threads)
                thread.Join();
        }
        foreach (var queue in _queues)
            queue?.Dispose();
        _barrier.Dispose();
        _stop.Dispose();
    }

    private sealed class Batch
    {
        public readonly Item[] Items = new Item[BatchSize];
        public int Count;
    }

    /// <summary>A packet (Index ≥ 0: its number), or the lone engine's sweep before packet -1 - Index, at time At.</summary>
    private struct Item
    {
        public long Index;
        public long At;
        public TcpSegment Segment;
    }

    private sealed class BuildEvery : IShardReportFilter
    {
        public static readonly BuildEvery Instance = new();
        public bool MayWant(in ConnectionSummary summary) => true;
        public void Built(ConnectionReport report) { }
    }
}
