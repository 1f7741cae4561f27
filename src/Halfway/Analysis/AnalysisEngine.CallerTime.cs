namespace Halfway.Analysis;

/// <summary>
/// The engine fed with the caller's time: for an analysis that shares a packet stream's flows out between engines
/// (each sees the whole stream and analyses only the flows it is given; their finished connections are merged into
/// one engine's order). What the engine needs for that, and nothing of how the caller shares the flows out.
/// </summary>
internal sealed partial class AnalysisEngine
{
    /// <summary>
    /// Set by <see cref="TakeTimeFromCaller"/>: the caller sweeps (<see cref="AddPicked"/>), the ordinals of packets in
    /// the caller's stream order the flows, and finished connections go to <see cref="_placed"/> with their place.
    /// </summary>
    private bool _timeFromCaller;
    private IPlacedSink? _placed;
    /// <summary>With the caller's time: the ordinal of the packet being analysed, or of the packet a sweep runs before.</summary>
    private long _ordinal;
    private bool _ordinalIsPacket;
    /// <summary>Open flows being finished one at a time (<see cref="NextOpenFlow"/>): the next one's index in <see cref="_finishing"/>, or -1.</summary>
    private int _nextOpen = -1;

    /// <summary>The context and the sink, for the engines that analyse the other shares of the flows.</summary>
    internal AnalysisContext Context => _context;
    internal IConnectionSink Sink => _sink;

    /// <summary>
    /// From now on the caller keeps the time, for an analysis that shares a packet stream's flows out between engines
    /// (each sees the whole stream, analyses only the flows it is given, and their outputs are merged): the engine
    /// sweeps only where <see cref="AddPicked"/> says, orders flows that start together by the ordinal of the packet
    /// that started them, and hands each finished connection to <paramref name="placed"/> with its place in the stream
    /// instead of to its sink (whose <see cref="IConnectionSink.WantsReport"/> it still asks, maybe from another thread).
    /// False, and nothing changes, once the engine has seen anything.
    /// </summary>
    internal bool TakeTimeFromCaller(IPlacedSink placed)
    {
        if (_timeFromCaller || _clock.Started || _flows.Count > 0 || _connectionsFinished > 0) // packets start the clock; lab observations may not
            return false;
        _timeFromCaller = true;
        _placed = placed;
        return true;
    }

    /// <summary>
    /// The packets of a batch at the indices <paramref name="picked"/> (in order), with the caller's sweeps between them:
    /// before the packet at each sweep's index, at its time (<see cref="TakeTimeFromCaller"/>). The batch's first packet
    /// has the ordinal <paramref name="firstOrdinal"/> in the caller's stream.
    /// </summary>
    internal unsafe void AddPicked(ReadOnlySpan<TimedSegment> batch, ReadOnlySpan<int> picked, long firstOrdinal, List<(int Index, long At)> sweeps)
    {
        if (!_timeFromCaller)
            throw new InvalidOperationException("the engine keeps its own time: see TakeTimeFromCaller");
        fixed (TimedSegment* first = batch)
        fixed (int* index = picked)
            AddInOrder(first, picked.Length, new PickedPackets(index), sweeps, firstOrdinal);
    }

    /// <summary>The packets the caller picked, by their indices in the batch.</summary>
    private readonly unsafe struct PickedPackets(int* index) : IBatchOrder
    {
        public int this[int i] => index[i];
    }

    /// <summary>
    /// The next open flow to finish, in the order they started, and its place: for a caller that finishes several
    /// engines' flows in one order (<see cref="FinishNextOpenFlow"/>), one at a time (a million open flows must not
    /// wait as reports). False when none is left; the table is emptied on the first call.
    /// </summary>
    internal bool NextOpenFlow(out FinishPlace place)
    {
        if (_nextOpen < 0)
        {
            CollectOpenInStartOrder();
            _nextOpen = 0;
        }
        if (_nextOpen == _finishing.Count)
        {
            _finishing.Clear();
            _nextOpen = -1;
            place = default;
            return false;
        }
        var f = _finishing[_nextOpen];
        place = new FinishPlace(long.MaxValue, false, f.FirstAt, f.Serial);
        return true;
    }

    /// <summary>Finishes the flow <see cref="NextOpenFlow"/> gave, at <paramref name="end"/> (or its last packet), straight to the sink.</summary>
    internal void FinishNextOpenFlow(long end)
    {
        var flow = _finishing[_nextOpen++].Flow;
        Report(flow, Math.Max(end, flow.LastAt), direct: true);
    }

    /// <summary>
    /// Ends the observation for this engine's share: every open flow is finished at <paramref name="end"/> (or its last
    /// packet), in the order they started, to the placed sink, each placed after every packet (its place's ordinal is
    /// <see cref="long.MaxValue"/>, as <see cref="NextOpenFlow"/> gives it). For a shard that finishes its open flows on
    /// its own thread while the caller merges them with the other shards' (see <see cref="NextOpenFlow"/>).
    /// </summary>
    internal void FinishOpenFlowsPlaced(long end)
    {
        if (!_timeFromCaller)
            throw new InvalidOperationException("the engine keeps its own time: see TakeTimeFromCaller");
        var finishing = CollectOpenInStartOrder();
        _ordinal = long.MaxValue;
        _ordinalIsPacket = false;
        foreach (var f in finishing)
            Report(f.Flow, Math.Max(end, f.Flow.LastAt));
        finishing.Clear();
    }

    /// <summary>Adds another engine's counts to this one's: the other share of flows of one analysis.</summary>
    /// <summary>Connections this engine counted itself once the sink's counts commuted (<see cref="IConnectionSink.CountsCommute"/>); null if none.</summary>
    private ConnectionTally? _tally;

    /// <summary>Hands the sink what this engine counted itself (see <see cref="_tally"/>); the calling thread must be the sink's.</summary>
    internal void HandTallyToSink()
    {
        if (_tally is null)
            return;
        _sink.AddTally(_tally);
        _tally = null;
    }

    internal void AddCountsOf(AnalysisEngine other)
    {
        _packetsAnalysed += other._packetsAnalysed;
        _connectionsFinished += other._connectionsFinished;
        _stragglersIgnored += other._stragglersIgnored;
    }
}
