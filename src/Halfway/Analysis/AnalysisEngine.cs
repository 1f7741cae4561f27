using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// The one analysis engine for capture files and lab runs: a flow tracker keyed by the 4-tuple that turns observations
/// into each connection's events, and hands every finished connection, classified, to <c>onFinished</c>. Memory grows
/// with the number of open flows: a flow is finished when it closed and went quiet, when it idled past the context's
/// timeout, when its 4-tuple is reused with a new ISN, or at <see cref="Finish"/>.
/// </summary>
public sealed class AnalysisEngine
{
    /// <summary>A closed flow (FIN both ways, or a RST) with no packet for this long is finished.</summary>
    public const long ClosedLingerMicroseconds = 2_000_000;
    /// <summary>Stragglers of a finished, closed connection (a re-sent FIN, a last ACK) within this time are ignored, not taken for a new connection.</summary>
    public const long TombstoneMicroseconds = 10_000_000;
    private const long SweepIntervalMicroseconds = 5_000_000;
    /// <summary>
    /// A flow whose handshake never completed (SYN flood, scan, dropped SYNs) is finished after this much silence: longer
    /// than the longest gap between SYN retransmissions (64 s with tcp_syn_retries=6), far shorter than the idle timeout,
    /// so that a SYN flood cannot fill memory.
    /// </summary>
    public const long UnconnectedIdleMicroseconds = 70_000_000;

    private readonly Dictionary<FlowKey, Flow> _flows = new();
    private readonly AnalysisContext _context;
    private readonly IConnectionSink _sink;
    private readonly Stack<Flow> _spare = new();
    private readonly EventSlabs _slabs = new();
    private readonly Dictionary<FlowKey, long> _tombstones = new();
    private readonly ConnectionClassifier _classifier = new(ConnectionClassifier.MaxEvidence);
    private long _now = long.MinValue;
    private long _nextSweepAt = long.MinValue;

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
    public long PacketsAnalysed { get; private set; }
    public long ConnectionsFinished { get; private set; }
    /// <summary>Packets of connections already finished and closed (a re-sent FIN, a late ACK) that were not taken for new connections.</summary>
    public long StragglersIgnored { get; private set; }

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
        switch (observation)
        {
            case PacketObservation packet:
                AddPacket(packet.AtMicroseconds, packet.Segment, packet.DeliveredAtMicroseconds ?? 0, packet.DroppedByLink);
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
            case ServerSocketObservation socket:
                AddServerSocket(socket);
                break;
        }
    }

    /// <summary>
    /// The hot path for capture files: one TCP segment, no allocation unless it starts a flow. A segment the lab's link
    /// dropped still shows what its sender did, so it is analysed like any other; the timeline says it was dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddPacket(long atMicroseconds, in TcpSegment segment, long deliveredAtMicroseconds = 0, bool droppedByLink = false)
    {
        PacketsAnalysed++;
        Advance(atMicroseconds);
        var key = new FlowKey(segment.Source, segment.Destination);
        ref Flow? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_flows, key, out bool exists);
        if (!exists)
        {
            if (!segment.Has(TcpFlags.Syn) && _tombstones.Count > 0 && _tombstones.TryGetValue(key, out long closedAt) && atMicroseconds - closedAt < TombstoneMicroseconds)
            {
                _flows.Remove(key);
                StragglersIgnored++;
                return;
            }
            slot = Flow.Start(segment, atMicroseconds, _spare, _slabs);
        }
        else if (slot!.IsNewConnection(segment) || (slot.Closed && segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Ack)))
        {
            // Port reuse: the same 4-tuple with a new ISN is a new connection; the old one ended when it came.
            var old = slot;
            slot = Flow.Start(segment, atMicroseconds, _spare, _slabs);
            Report(old, atMicroseconds);
        }
        slot!.OnPacket(segment, atMicroseconds, deliveredAtMicroseconds);
        if (droppedByLink)
            slot.AddNote(atMicroseconds, segment.Source == slot.Client ? TimelineColumn.WireToServer : TimelineColumn.WireToClient,
                $"{TcpFlagsText.Short(segment.Flags)} above dropped by the link");
    }

    private void AddClientCall(ClientCallObservation call)
    {
        Advance(call.AtMicroseconds);
        var flow = FlowFor(call.Client, call.Server, call.AtMicroseconds);
        var kind = (call.Step, call.Result) switch
        {
            ("connect", "ok") => ConnectionEventKind.CallConnectOk,
            ("connect", "refused") => ConnectionEventKind.CallConnectRefused,
            ("connect", _) => ConnectionEventKind.CallConnectFailed,
            // Only data proves a complete socket on the server: recv() also returns EOF after a reset was reported to an earlier call.
            (_, "data") => ConnectionEventKind.CallGotData,
            (_, "reset") => ConnectionEventKind.CallReset,
            (_, "timeout") => ConnectionEventKind.CallTimeout,
            _ => (ConnectionEventKind?)null,
        };
        if (kind is { } k)
            flow.Add(k, call.AtMicroseconds);
        string text = call.Errno is null ? $"{call.Step}: {call.Result}" : $"{call.Step}: {call.Result} ({call.Errno})";
        flow.AddNote(call.AtMicroseconds, TimelineColumn.Client, text);
    }

    private void AddServerSocket(ServerSocketObservation socket)
    {
        Advance(socket.AtMicroseconds);
        var flow = FlowFor(socket.Client, socket.Server, socket.AtMicroseconds);
        switch (socket.State)
        {
            case "SYN-RECV":
                flow.Add(ConnectionEventKind.ServerRequestSocket, socket.AtMicroseconds, socket.Retransmits);
                flow.AddNote(socket.AtMicroseconds, TimelineColumn.Server, $"SYN-RECV ({socket.Retransmits} re-sent)");
                break;
            case "none":
                flow.Add(ConnectionEventKind.ServerSocketGone, socket.AtMicroseconds);
                flow.AddNote(socket.AtMicroseconds, TimelineColumn.Server, "no socket");
                break;
            case "LISTEN":
                break;
            default:
                flow.Add(ConnectionEventKind.ServerEstablished, socket.AtMicroseconds);
                flow.AddNote(socket.AtMicroseconds, TimelineColumn.Server, socket.State);
                break;
        }
    }

    private Flow FlowFor(IpEndpoint client, IpEndpoint server, long at)
    {
        ref Flow? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_flows, new FlowKey(client, server), out bool exists);
        if (!exists)
            slot = new Flow(client, server, true, at);
        return slot!;
    }

    private void Advance(long at)
    {
        if (at > _now)
            _now = at;
        if (_nextSweepAt == long.MinValue)
            _nextSweepAt = at + SweepIntervalMicroseconds;
        else if (at >= _nextSweepAt)
        {
            _nextSweepAt = at + SweepIntervalMicroseconds;
            Sweep(at);
        }
    }

    /// <summary>Finishes flows that closed and went quiet, or idled past the timeout: their fate cannot change any more.</summary>
    private void Sweep(long now)
    {
        foreach (var flow in _flows.Values)
        {
            long idle = now - flow.LastAt;
            if (idle >= _context.IdleTimeoutMicroseconds || (flow.Closed && idle >= ClosedLingerMicroseconds)
                || (!flow.Connected && idle >= Math.Min(UnconnectedIdleMicroseconds, _context.IdleTimeoutMicroseconds)))
            {
                var key = new FlowKey(flow.Client, flow.Server);
                _flows.Remove(key); // allowed while enumerating
                if (flow.Closed)
                    _tombstones[key] = flow.LastAt;
                Report(flow, now);
            }
        }
        foreach (var (key, closedAt) in _tombstones)
            if (now - closedAt >= TombstoneMicroseconds)
                _tombstones.Remove(key);
    }

    /// <summary>Ends the observation: every open flow is classified with the context's end time (or the last observation's).</summary>
    public void Finish()
    {
        long end = _context.EndMicroseconds ?? _now;
        foreach (var flow in _flows.Values)
            Report(flow, Math.Max(end, flow.LastAt));
        _flows.Clear();
    }

    private void Report(Flow flow, long end)
    {
        var classifier = _classifier;
        classifier.Reset();
        int synAckResends = 0;
        foreach (ref readonly var e in flow.Events)
        {
            classifier.Apply(e);
            if (e.Kind == ConnectionEventKind.ServerSynAckResent)
                synAckResends++;
        }
        var decision = classifier.Decide(end, _context.ServerSideObserved);
        var summary = new ConnectionSummary(flow.Client, flow.Server, decision.Fate, decision.HalfEstablished, decision.Kind,
            classifier.Handshake(decision, end, synAckResends));
        ConnectionsFinished++;
        if (_sink.WantsReport(summary))
            _sink.Add(new ConnectionReport(flow, classifier.Finish(decision, end)));
        else
            _sink.Count(summary);
        if (flow.Notes is null)
            _spare.Push(flow);
    }
}
