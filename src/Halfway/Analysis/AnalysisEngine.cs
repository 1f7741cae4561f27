using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Analysis;

/// <summary>
/// The one analysis engine for capture files and lab runs: a flow tracker keyed by the 4-tuple that turns observations
/// into each connection's events, and hands every finished connection, classified, to <c>onFinished</c>. Memory grows
/// with the number of open flows: a flow is finished when it closed and went quiet, when it idled past the context's
/// timeout, when its 4-tuple is reused with a new ISN, or at <see cref="Finish"/>.
/// </summary>
internal sealed partial class AnalysisEngine
{
    /// <summary>A closed flow (FIN both ways, or a RST) with no packet for this long is finished.</summary>
    public const long ClosedLingerMicroseconds = 2_000_000;
    /// <summary>Stragglers of a finished, closed connection (a re-sent FIN, a last ACK) within this time are ignored, not taken for a new connection.</summary>
    public const long TombstoneMicroseconds = 10_000_000;
    /// <summary>
    /// Flows are swept this often (capture time). Every sweep looks at every open flow, but a finished flow is recycled only
    /// by a sweep: once a second (it was every 5 s) keeps fewer flows, event slabs and tombstones alive at once, which on
    /// a busy capture is fewer cache misses and much less fresh memory (page faults) than the extra sweeps cost.
    /// </summary>
    internal const long SweepIntervalMicroseconds = 1_000_000;
    private const long TombstoneExpiryIntervalMicroseconds = 2_000_000;
    private long _nextTombstoneExpiryAt = long.MinValue;
    /// <summary>
    /// A flow whose handshake never completed (SYN flood, scan, dropped SYNs) is finished after this much silence: longer
    /// than the longest gap between SYN retransmissions (64 s with tcp_syn_retries=6), far shorter than the idle timeout,
    /// so that a SYN flood cannot fill memory.
    /// </summary>
    public const long UnconnectedIdleMicroseconds = 70_000_000;

    private readonly FlowTable _flows = new();
    private readonly AnalysisContext _context;
    private readonly IConnectionSink _sink;
    private readonly Stack<Flow> _spare = new();
    private readonly EventSlabs _slabs = new();
    private readonly TombstoneSet _tombstones = new();
    private readonly List<(Flow Flow, int Slot)> _open = [];
    private readonly List<Finishing> _finishing = [];
    private long _flowsStarted;
    private readonly ConnectionClassifier _classifier = new(ConnectionClassifier.MaxEvidence);
    private SweepClock _clock = SweepClock.New();
    private long _packetsAnalysed, _connectionsFinished, _stragglersIgnored;

    public AnalysisEngine(AnalysisContext context, Action<ConnectionReport> onFinished) : this(context, new EverySink(onFinished))
    {
    }

    public AnalysisEngine(AnalysisContext context, IConnectionSink sink)
    {
        _context = context;
        _sink = sink;
    }

    private sealed class EverySink(Action<ConnectionReport> onFinished) : IConnectionSink
    {
        public bool WantsReport(in ConnectionSummary summary) => true;
        public void Add(ConnectionReport report) => onFinished(report);
        public void Count(in ConnectionSummary summary) { }
    }

    public int OpenFlows => _flows.Count;
    public long PacketsAnalysed => _packetsAnalysed;
    public long ConnectionsFinished => _connectionsFinished;
    /// <summary>Packets of connections already finished and closed (a re-sent FIN, a late ACK) that were not taken for new connections.</summary>
    public long StragglersIgnored => _stragglersIgnored;

    /// <summary>Analyses a whole set of observations (a lab run): sorted by time, then every connection is returned.</summary>
    public static IReadOnlyList<ConnectionReport> Analyze(IEnumerable<Observation> observations, AnalysisContext context)
    {
        var reports = new List<ConnectionReport>();
        var engine = new AnalysisEngine(context, reports.Add);
        foreach (var observation in observations.OrderBy(o => o.AtMicroseconds))
            engine.Add(observation);
        engine.Finish();
        return reports;
    }

    public void Add(Observation observation)
    {
        ThrowIfTimeFromCaller();
        switch (observation)
        {
            case PacketObservation packet:
                AddPacket(packet.AtMicroseconds, packet.Segment, FlowHash.Of(packet.Segment.Source, packet.Segment.Destination),
                    packet.DroppedByLink ? -1 : packet.DeliveredAtMicroseconds ?? 0,
                    packet.DroppedByLink ? $"dropped by the link ({packet.DropReason ?? "no reason given"})" : packet.DropReason);
                break;
            case ClientCallObservation call:
                AddClientCall(call);
                break;
            case ServerAcceptObservation accept:
            {
                var flow = FlowFor(accept.Client, accept.Server, accept.AtMicroseconds);
                flow.Add(ConnectionEventKind.ServerAccepted, accept.AtMicroseconds);
                flow.AddNote(accept.AtMicroseconds, TimelineColumn.Server, "accept()");
                break;
            }
            case ServerAcceptUnknownObservation unknown:
            {
                var flow = FlowFor(unknown.Client, unknown.Server, unknown.AtMicroseconds);
                flow.Add(ConnectionEventKind.ServerAcceptUnknown, unknown.AtMicroseconds);
                flow.AddNote(unknown.AtMicroseconds, TimelineColumn.Server, "gone: accepted or not, unknown");
                break;
            }
            case ServerSocketObservation socket:
                AddServerSocket(socket);
                break;
            case KernelEventObservation kernel:
                Advance(kernel.AtMicroseconds);
                FlowFor(kernel.Client, kernel.Server, kernel.AtMicroseconds)
                    .AddNote(kernel.AtMicroseconds, TimelineColumn.Server, KernelEventText(kernel));
                break;
        }
    }

    /// <summary>
    /// The hot path for capture files: one TCP segment, no allocation unless it starts a flow. A segment the lab's link
    /// dropped still shows what its sender did, so it is analysed like any other; the timeline says it was dropped.
    /// </summary>
    public void AddPacket(long atMicroseconds, in TcpSegment segment)
    {
        ThrowIfTimeFromCaller();
        AddPacket(atMicroseconds, segment, FlowHash.Of(segment.Source, segment.Destination));
    }

    private void ThrowIfTimeFromCaller()
    {
        if (_timeFromCaller)
            throw new InvalidOperationException("this engine keeps the caller's time: it takes packets only picked from the caller's batches");
    }

    /// <summary>A batch of segments, in order (see <see cref="AddInOrder"/>).</summary>
    internal unsafe void AddPackets(ReadOnlySpan<TimedSegment> packets)
    {
        ThrowIfTimeFromCaller();
        fixed (TimedSegment* first = packets)
            AddInOrder(first, packets.Length, default(AllPackets), sweeps: null, firstOrdinal: 0);
    }

    /// <summary>Which packets of a batch, in which order: a struct, so that each kind gets code of its own (no call per packet).</summary>
    private interface IBatchOrder
    {
        int this[int i] { get; }
    }

    /// <summary>Every packet of the batch.</summary>
    private readonly struct AllPackets : IBatchOrder
    {
        public int this[int i] => i;
    }

    /// <summary>
    /// The packets <paramref name="order"/> picks from a batch, each one's slot in the flow table, then its flow, fetched
    /// into the cache a few packets ahead (see <see cref="FlowTable.PrefetchSlot"/>): looked up one after the other,
    /// every packet waited for both; fetched ahead, those waits overlap with the work on the packets before it. With
    /// the caller's time (<paramref name="sweeps"/> given) the engine sweeps where the caller says; else where each
    /// packet's time says.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void AddInOrder<TOrder>(TimedSegment* first, int n, TOrder order, List<(int Index, long At)>? sweeps, long firstOrdinal) where TOrder : struct, IBatchOrder
    {
        // The batch's records are fetched ahead too (a parse-ahead batch was written on the other core).
        const int recordsAhead = 16, slotsAhead = 8, flowsAhead = 4;
        int nextSweep = 0;
        for (int i = 0; i < Math.Min(recordsAhead, n); i++)
            PrefetchRecord(first + order[i]);
        for (int i = 0; i < Math.Min(slotsAhead, n); i++)
            _flows.PrefetchSlot(first[order[i]].Hash);
        for (int i = 0; i < Math.Min(flowsAhead, n); i++)
            _flows.PrefetchFlow(first[order[i]].Hash);
        for (int i = 0; i < n; i++)
        {
            int k = order[i];
            if (sweeps is not null)
            {
                while (nextSweep < sweeps.Count && sweeps[nextSweep].Index <= k)
                    SweepBefore(firstOrdinal + sweeps[nextSweep].Index, sweeps[nextSweep++].At);
                _ordinal = firstOrdinal + k;
            }
            if (i + recordsAhead < n)
                PrefetchRecord(first + order[i + recordsAhead]);
            if (i + slotsAhead < n)
                _flows.PrefetchSlot(first[order[i + slotsAhead]].Hash);
            if (i + flowsAhead < n)
                _flows.PrefetchFlow(first[order[i + flowsAhead]].Hash);
            ref readonly var p = ref first[k];
            AddPacket(p.At, p.Segment, p.Hash);
        }
        while (sweeps is not null && nextSweep < sweeps.Count)
            SweepBefore(firstOrdinal + sweeps[nextSweep].Index, sweeps[nextSweep++].At);
    }

    private void SweepBefore(long ordinal, long at)
    {
        _ordinal = ordinal;
        Sweep(at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRecord(TimedSegment* record)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(record);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0((byte*)record + sizeof(TimedSegment) - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="deliveredAtMicroseconds">When a lab link delivered the segment (0: not known; -1: the link dropped it).</param>
    /// <param name="notDelivered">Why the lab's link did not deliver it, in words (null: it did, or nothing is known).</param>
    internal void AddPacket(long atMicroseconds, in TcpSegment segment, uint hash, long deliveredAtMicroseconds = 0, string? notDelivered = null)
    {
        _packetsAnalysed++;
        if (!_timeFromCaller)
            Advance(atMicroseconds); // else the caller's sweeps come with the batch
        var flow = _flows.Find(segment.Source, segment.Destination, hash, out int slot);
        if (flow is null)
        {
            // A SYN starts a connection whatever came before on its 4-tuple; a tombstone it leaves behind is renewed or
            // expires (one stays only for stragglers of the old connection, as it would have without the new one).
            if (_tombstones.Count > 0 && !segment.Has(TcpFlags.Syn))
            {
                long closedAt = _tombstones.ClosedAt(segment.Source, segment.Destination);
                if (closedAt != long.MinValue && atMicroseconds - closedAt < TombstoneMicroseconds)
                {
                    _stragglersIgnored++;
                    return;
                }
            }
            flow = StartFlow(segment, atMicroseconds);
            _flows.Put(slot, flow, hash, DueAt(flow));
        }
        else if (flow.IsNewConnection(segment) || (flow.Closed && segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Ack)))
        {
            // Port reuse: the same 4-tuple with a new ISN is a new connection; the old one ended when it came.
            var old = flow;
            flow = StartFlow(segment, atMicroseconds);
            _flows.Put(slot, flow, hash, DueAt(flow));
            _ordinalIsPacket = true;
            Report(old, atMicroseconds);
            _ordinalIsPacket = false;
        }
        flow.OnPacket(segment, atMicroseconds, deliveredAtMicroseconds);
        if (flow.Closed)
        {
            if (flow.CloseAcknowledged && FinishesAtClose(flow, slot, atMicroseconds))
                return;
            // Its tombstone is written when it is finished, most likely at the last ACK a round trip later: fetched now.
            _tombstones.PrefetchFor(flow.Client, flow.Server);
        }
        _flows.SetDue(slot, DueAt(flow));
        if (notDelivered is not null)
            flow.AddNote(atMicroseconds, segment.Source == flow.Client ? TimelineColumn.WireToServer : TimelineColumn.WireToClient,
                $"{TcpFlagsText.Short(segment.Flags)} above {notDelivered}");
    }

    private void AddClientCall(ClientCallObservation call)
    {
        Advance(call.AtMicroseconds);
        var flow = FlowFor(call.Client, call.Server, call.AtMicroseconds);
        var kind = (call.Step, call.Result) switch
        {
            (ClientStep.Connect, CallResult.Ok) => ConnectionEventKind.CallConnectOk,
            (ClientStep.Connect, CallResult.Refused) => ConnectionEventKind.CallConnectRefused,
            (ClientStep.Connect, _) => ConnectionEventKind.CallConnectFailed,
            // Only data proves a complete socket on the server: recv() also returns EOF after a reset was reported to an earlier call.
            (_, CallResult.Data) => ConnectionEventKind.CallGotData,
            (_, CallResult.Reset) => ConnectionEventKind.CallReset,
            (_, CallResult.Timeout) => ConnectionEventKind.CallTimeout,
            _ => (ConnectionEventKind?)null,
        };
        if (kind is { } k)
            flow.Add(k, call.AtMicroseconds);
        string text = call.Errno is null ? $"{call.Step.Name()}: {call.Result.Name()}" : $"{call.Step.Name()}: {call.Result.Name()} ({call.Errno})";
        flow.AddNote(call.AtMicroseconds, TimelineColumn.Client, text);
    }

    private static string KernelEventText(KernelEventObservation e) => e.Kind switch
    {
        KernelEventKind.PacketDropped => $"kernel dropped {DroppedWhat(e)} ({e.Reason ?? "no reason given"}{QueueText(e.Listener)})",
        KernelEventKind.SynAckRetransmitted => "kernel re-sent the SYN-ACK",
        KernelEventKind.ResetSent => e.Reason is null ? "kernel sent a RST" : $"kernel sent a RST ({e.Reason})",
        _ => e.Reason is null ? "kernel received a RST" : $"kernel received a RST ({e.Reason})",
    };

    private static string DroppedWhat(KernelEventObservation e)
    {
        string from = e.FromClient ? "the client's" : "the server's";
        return e.Flags is { } flags ? $"{from} {SegmentName(flags)}" : $"{from} packet";
    }

    // The tracepoint gives flags, not the payload's length: PSH is the sign of data that the kernel's own segments carry.
    private static string SegmentName(TcpFlags flags) =>
        (flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack) ? "SYN-ACK"
        : (flags & TcpFlags.Syn) != 0 ? "SYN"
        : (flags & TcpFlags.Rst) != 0 ? "RST"
        : (flags & TcpFlags.Fin) != 0 ? "FIN"
        : (flags & TcpFlags.Psh) != 0 ? "data segment"
        : (flags & TcpFlags.Ack) != 0 ? "ACK"
        : $"{TcpFlagsText.Short(flags)} segment";

    private static string QueueText(KernelListenerState? listener) =>
        listener is null ? "" : $", listener {listener.Listener}, accept queue {listener.AcceptQueueLength} of {listener.AcceptQueueLimit}";

    private void AddServerSocket(ServerSocketObservation socket)
    {
        Advance(socket.AtMicroseconds);
        var flow = FlowFor(socket.Client, socket.Server, socket.AtMicroseconds);
        switch (socket.State)
        {
            case TcpState.SynRecv or TcpState.NewSynRecv:
                flow.Add(ConnectionEventKind.ServerRequestSocket, socket.AtMicroseconds, socket.Retransmits);
                flow.AddNote(socket.AtMicroseconds, TimelineColumn.Server, $"SYN-RECV ({socket.Retransmits} re-sent)");
                break;
            case null:
            {
                // A connection the table once held is gone from it; one it never held (a syncookie's) was never there.
                bool held = false;
                foreach (ref readonly var e in flow.Events)
                    held |= e.Kind is ConnectionEventKind.ServerRequestSocket or ConnectionEventKind.ServerEstablished;
                flow.Add(ConnectionEventKind.ServerSocketGone, socket.AtMicroseconds, held ? 1 : 0);
                flow.AddNote(socket.AtMicroseconds, TimelineColumn.Server, held ? "no socket any more" : "no socket");
                break;
            }
            case TcpState.Listen:
                break;
            case { } state:
                flow.Add(ConnectionEventKind.ServerEstablished, socket.AtMicroseconds);
                flow.AddNote(socket.AtMicroseconds, TimelineColumn.Server, TcpStateNames.Of(state));
                break;
        }
    }

    private Flow FlowFor(IpEndpoint client, IpEndpoint server, long at)
    {
        uint hash = FlowHash.Of(client, server);
        var flow = _flows.Find(client, server, hash, out int slot);
        if (flow is null)
        {
            flow = new Flow(client, server, true, at) { Serial = NextSerial() };
            _flows.Put(slot, flow, hash, DueAt(flow));
        }
        return flow;
    }

    private void Advance(long at)
    {
        if (_clock.Tick(at, SweepIntervalMicroseconds))
            Sweep(at);
    }

    /// <summary>
    /// When the flow is finished if no packet comes: closed and quiet for <see cref="ClosedLingerMicroseconds"/>, never
    /// connected and quiet for <see cref="UnconnectedIdleMicroseconds"/>, or idle past the context's timeout; never, when
    /// the source knows the connections' lifetimes (<see cref="AnalysisContext.ConnectionLifetimesKnown"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long DueAt(Flow flow)
    {
        if (_context.ConnectionLifetimesKnown)
            return long.MaxValue;
        long idle = _context.IdleTimeoutMicroseconds;
        if (flow.Closed)
            idle = Math.Min(idle, ClosedLingerMicroseconds);
        if (!flow.Connected)
            idle = Math.Min(idle, UnconnectedIdleMicroseconds);
        return flow.LastAt > long.MaxValue - idle ? long.MaxValue : flow.LastAt + idle;
    }

    private Flow StartFlow(in TcpSegment segment, long at)
    {
        var flow = Flow.Start(segment, at, _spare, _slabs);
        flow.Serial = NextSerial();
        return flow;
    }

    /// <summary>Orders flows that started at the same time: the count of flows started before, or with the caller's time the ordinal of the packet that started it (the same order in every engine fed the caller's stream).</summary>
    private long NextSerial() => _timeFromCaller ? _ordinal : _flowsStarted++;

    /// <summary>A flow being finished, with what orders the report: the table's order is its hash order.</summary>
    private readonly record struct Finishing(long FirstAt, long Serial, Flow Flow, int Slot);

    private long[] _sortKeys = new long[256];
    private Finishing[] _sortScratch = [];
    private readonly int[] _digitCounts = new int[1 << RadixBits];
    private const int RadixBits = 11;
    /// <summary>A radix sort pays from this many flows on; below, the comparison sort is as fast.</summary>
    private const int RadixMinimum = 256;

    /// <summary>
    /// Orders by start time, then by start order: the times alone are sorted (a radix sort when they span under 2^33 µs,
    /// as a sweep's flows do: it was 5 % of a busy capture's analysis as a comparison sort), then the rare runs of equal
    /// times by serial.
    /// </summary>
    private void SortByStart(List<Finishing> finishing)
    {
        int n = finishing.Count;
        var items = CollectionsMarshal.AsSpan(finishing);
        if (n < 2)
            return;
        long min = long.MaxValue, max = long.MinValue;
        foreach (ref readonly var item in items)
        {
            min = Math.Min(min, item.FirstAt);
            max = Math.Max(max, item.FirstAt);
        }
        ulong range = unchecked((ulong)max - (ulong)min);
        if (n >= RadixMinimum && range < 1UL << 33)
            RadixSortByStart(items, min, 64 - System.Numerics.BitOperations.LeadingZeroCount(range));
        else
        {
            if (_sortKeys.Length < n)
                _sortKeys = new long[Math.Max(n, _sortKeys.Length * 2)];
            var keys = _sortKeys.AsSpan(0, n);
            for (int i = 0; i < n; i++)
                keys[i] = items[i].FirstAt;
            keys.Sort(items);
        }
        for (int i = 1; i < n; i++)
        {
            var item = items[i];
            int j = i - 1;
            while (j >= 0 && items[j].FirstAt == item.FirstAt && items[j].Serial > item.Serial)
            {
                items[j + 1] = items[j];
                j--;
            }
            items[j + 1] = item;
        }
    }

    /// <summary>A stable sort on <c>FirstAt - min</c>, which fits in <paramref name="bits"/> bits, <see cref="RadixBits"/> at a time.</summary>
    private void RadixSortByStart(Span<Finishing> items, long min, int bits)
    {
        int n = items.Length;
        if (_sortScratch.Length < n)
            _sortScratch = new Finishing[Math.Max(n, _sortScratch.Length * 2)];
        Span<Finishing> from = items, to = _sortScratch.AsSpan(0, n);
        var counts = _digitCounts.AsSpan();
        const int mask = (1 << RadixBits) - 1;
        for (int shift = 0; shift < bits; shift += RadixBits)
        {
            counts.Clear();
            foreach (ref readonly var item in from)
                counts[(int)((item.FirstAt - min) >> shift) & mask]++;
            int total = 0;
            for (int d = 0; d < counts.Length; d++)
            {
                int c = counts[d];
                counts[d] = total;
                total += c;
            }
            foreach (ref readonly var item in from)
                to[counts[(int)((item.FirstAt - min) >> shift) & mask]++] = item;
            var swap = from;
            from = to;
            to = swap;
        }
        if (from != items)
            from.CopyTo(items);
        // The scratch holds flows: let them go with the sweep.
        _sortScratch.AsSpan(0, n).Clear();
    }

    /// <summary>Finishes flows that closed and went quiet, or idled past the timeout: their fate cannot change any more.</summary>
    private void Sweep(long now)
    {
        var open = _open;
        var finishing = _finishing;
        _flows.CollectFlows(open, dueBy: now);
        // Each pass below touches flows, slots and tombstones in no order the cache can guess (a busy capture finishes
        // tens of thousands at a sweep): each is fetched a few steps ahead, so that the waits overlap.
        const int ahead = 8;
        var collected = CollectionsMarshal.AsSpan(open);
        for (int i = 0; i < collected.Length; i++)
        {
            if (i + ahead < collected.Length)
                Flow.Prefetch(collected[i + ahead].Flow);
            var (flow, slot) = collected[i];
            if (now >= DueAt(flow))
                finishing.Add(new Finishing(flow.FirstAt, flow.Serial, flow, slot));
        }
        open.Clear();
        // Removed in descending slot order (see FlowTable.RemoveAt), reported in the order the connections started.
        for (int k = finishing.Count - 1; k >= 0; k--)
        {
            if (k >= ahead)
                _flows.PrefetchSlotAt(finishing[k - ahead].Slot);
            if (k >= ahead / 2 && finishing[k - ahead / 2].Flow is { Closed: true } next)
                _tombstones.PrefetchFor(next.Client, next.Server);
            var f = finishing[k];
            _flows.RemoveAt(f.Slot, f.Flow);
            if (f.Flow.Closed)
                _tombstones.Add(f.Flow.Client, f.Flow.Server, f.Flow.LastAt);
        }
        SortByStart(finishing);
        var sorted = CollectionsMarshal.AsSpan(finishing);
        for (int i = 0; i < sorted.Length; i++)
        {
            if (i + ahead < sorted.Length)
                Flow.Prefetch(sorted[i + ahead].Flow);
            if (i + ahead / 2 < sorted.Length)
                sorted[i + ahead / 2].Flow.PrefetchEvents();
            Report(sorted[i].Flow, now);
        }
        finishing.Clear();
        // Tombstones are looked at less often: a lookup compares the time anyway, expiry only bounds their memory.
        if (now >= _nextTombstoneExpiryAt)
        {
            _nextTombstoneExpiryAt = now + TombstoneExpiryIntervalMicroseconds;
            _tombstones.Expire(now - TombstoneMicroseconds + 1);
        }
    }

    /// <summary>Ends the observation: every open flow is classified with the context's end time (or the last observation's).</summary>
    public void Finish() => FinishFlows(_context.EndMicroseconds ?? _clock.Now);

    private void FinishFlows(long end)
    {
        var finishing = CollectOpenInStartOrder();
        foreach (var f in finishing)
            Report(f.Flow, Math.Max(end, f.Flow.LastAt));
        finishing.Clear();
    }

    /// <summary>Every open flow, in the order they started; the table is emptied.</summary>
    private List<Finishing> CollectOpenInStartOrder()
    {
        var open = _open;
        var finishing = _finishing;
        _flows.CollectFlows(open);
        foreach (var (flow, slot) in open)
            finishing.Add(new Finishing(flow.FirstAt, flow.Serial, flow, slot));
        open.Clear();
        _flows.Clear();
        SortByStart(finishing);
        return finishing;
    }

    /// <summary>
    /// Finishes a flow at the packet that acknowledged the last FIN, while it is still in the cache, instead of at a sweep
    /// 2-3 s later: its fate is settled (the server completed it) and what may still come are stragglers, which its
    /// tombstone absorbs. Only when nobody wants its report (a plainly accepted connection) and only for packet sources:
    /// in a lab run the server's accept() and socket samples may come after the close. True when it was finished.
    /// </summary>
    private bool FinishesAtClose(Flow flow, int slot, long at)
    {
        if (_context.ServerSideObserved || _context.ConnectionLifetimesKnown || flow.Notes is not null)
            return false;
        Classify(flow, at, keepEvidence: false, out var summary);
        if (_sink.WantsReport(summary))
            return false; // reported with everything that follows, at a sweep
        _flows.RemoveAt(slot, flow);
        _tombstones.Add(flow.Client, flow.Server, flow.LastAt);
        _ordinalIsPacket = true;
        Deliver(flow, null, summary);
        _ordinalIsPacket = false;
        return true;
    }

    private ConnectionClassifier.Decision Classify(Flow flow, long end, bool keepEvidence, out ConnectionSummary summary)
    {
        var classifier = _classifier;
        ApplyEvents(flow, keepEvidence);
        var decision = classifier.Decide(end, _context.ServerSideObserved);
        summary = new ConnectionSummary(flow.Client, flow.Server, decision.Fate, decision.HalfEstablished, decision.Kind,
            classifier.Handshake(), classifier.DataResendsBeforeServerAck);
        return decision;
    }

    private void ApplyEvents(Flow flow, bool keepEvidence)
    {
        var classifier = _classifier;
        classifier.Reset(keepEvidence);
        foreach (ref readonly var e in flow.Events)
            classifier.Apply(e);
    }

    /// <param name="direct">Straight to the sink, also with the caller's time (when the caller gives the order).</param>
    private void Report(Flow flow, long end, bool direct = false)
    {
        // Most connections are only counted: their events are applied without copying the evidence, and again with it
        // for the few whose report is wanted.
        var decision = Classify(flow, end, keepEvidence: false, out var summary);
        ConnectionReport? report = null;
        if (_sink.WantsReport(summary))
        {
            ApplyEvents(flow, keepEvidence: true); // the same state again, now with the evidence; the decision stands
            report = new ConnectionReport(flow, _classifier.Finish(decision, end));
        }
        Deliver(flow, report, summary, direct);
    }

    private void Deliver(Flow flow, ConnectionReport? report, in ConnectionSummary summary, bool direct = false)
    {
        _connectionsFinished++;
        if (_placed is not null && !direct && report is null && _sink.CountsCommute)
            (_tally ??= new ConnectionTally()).Count(summary);
        else if (_placed is not null && !direct)
            _placed.Add(new FinishPlace(_ordinal, _ordinalIsPacket, flow.FirstAt, flow.Serial), report, summary);
        else if (report is not null)
            _sink.Add(report);
        else
            _sink.Count(summary);
        if (flow.Notes is null)
            _spare.Push(flow);
    }
}
