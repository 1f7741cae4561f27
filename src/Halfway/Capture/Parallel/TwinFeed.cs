using System.Runtime.ExceptionServices;

namespace Halfway.Capture.Parallel;

/// <summary>
/// The second thread of a split analysis (see <see cref="SplitEngine"/>): it reads and parses the same capture files
/// as the calling thread, from their own file handles, and feeds every packet to the twin shard,
/// which analyses its share of the flows. What the twin finishes is handed to the calling thread, which merges it with
/// its own (<see cref="AfterOwnBatch"/>). Neither thread runs more than <see cref="MaxLead"/> batches ahead of the other:
/// that bounds the finished connections waiting to be merged.
/// </summary>
/// <remarks>
/// Each thread parses every packet (parsing is cheap next to analysing) so that no packet crosses from one core to
/// the other: handing 80-byte parsed packets over cost the parsing thread more than parsing them.
/// </remarks>
internal sealed class TwinFeed : IDisposable
{
    /// <summary>Packets per batch: 80 KB of parsed packets, which stay in the core's cache until the shard has analysed them.</summary>
    public const int BatchLength = 1024;
    private const long MaxLead = 64;
    /// <summary>
    /// The twin finishes its flows still open at the end on its own thread when they are at most this many (their
    /// connections wait whole to be merged: tens of MB at most); more stay open for the calling thread to finish one
    /// at a time (a million open flows).
    /// </summary>
    private const int MaxOpenFlowsFinishedAhead = 1 << 18;

    private readonly SplitEngine _split;
    private readonly IReadOnlyList<Func<CaptureReader>> _opens;
    private readonly CaptureFilter? _filter;
    private readonly CancellationToken _token;
    private readonly Thread _thread;
    // One lock for the handover; waits are rare (either side only waits when the other is MaxLead batches behind).
    private readonly object _lock = new();
    private FinishedQueue _twinsFinished = new();
    private FinishedQueue _handedOver = new();
    /// <summary>The twin's finished connections the calling thread has taken but not merged yet: it may be behind the twin.</summary>
    private FinishedQueue _twinsPending = new();
    private long _twinBatches, _ownBatches;
    private long _twinOrdinal;
    private bool _twinWaiting, _ownWaiting, _twinEnded, _ownEnded, _stopping, _joined, _openFinished;
    private Exception? _error;
    private static int s_running;
    private static long s_started;

    /// <summary>Twin threads of this process not yet finished (tests check that none is left behind).</summary>
    internal static int Running => Volatile.Read(ref s_running);
    /// <summary>Twin threads this process started (tests check which captures are split).</summary>
    internal static long Started => Interlocked.Read(ref s_started);

    /// <param name="opens">Opens each capture file again, in order: the same files and bytes the calling thread reads.</param>
    public TwinFeed(SplitEngine split, IReadOnlyList<Func<CaptureReader>> opens, CaptureFilter? filter, CancellationToken token)
    {
        _split = split;
        _opens = opens;
        _filter = filter;
        _token = token;
        _thread = new Thread(Run) { IsBackground = true, Name = "halfway twin" };
        Interlocked.Increment(ref s_running);
        Interlocked.Increment(ref s_started);
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            var twin = _split.Twin;
            var batch = new PacketBatch(BatchLength);
            foreach (var open in _opens)
            {
                using var reader = open();
                var parser = new PacketParser(reader, _filter);
                while (parser.Fill(batch, _token))
                {
                    twin.Add(batch.Packets.AsSpan(0, batch.Count));
                    if (!Publish(twin.Finished, twin.Ordinal))
                        return;
                }
            }
            // Every packet analysed: the flows still open can be finished here, while the calling thread may still be
            // reading, instead of one after the other on it at the end. Not too many: they wait whole to be merged.
            _token.ThrowIfCancellationRequested();
            if (twin.Engine.OpenFlows <= MaxOpenFlowsFinishedAhead)
            {
                twin.Engine.FinishOpenFlowsPlaced(SplitEngine.EndMicroseconds(twin));
                lock (_lock)
                {
                    _twinsFinished.TakeAll(twin.Finished);
                    _openFinished = true;
                }
            }
        }
        catch (Exception e)
        {
            lock (_lock)
                _error = e; // rethrown on the calling thread, at its next batch
        }
        finally
        {
            lock (_lock)
            {
                _twinEnded = true;
                Monitor.PulseAll(_lock);
            }
            Interlocked.Decrement(ref s_running);
        }
    }

    /// <summary>The twin's batch is done: its finished connections, and how far it got. False when the analysis is stopping.</summary>
    private bool Publish(FinishedQueue finished, long ordinal)
    {
        lock (_lock)
        {
            _twinsFinished.TakeAll(finished);
            _twinOrdinal = ordinal;
            _twinBatches++;
            if (_ownWaiting)
                Monitor.PulseAll(_lock);
            if (_twinBatches - _ownBatches > MaxLead)
            {
                // Not once the calling thread has read its last packet: it would never catch up (the file changed).
                while (_twinBatches - _ownBatches > MaxLead / 2 && !_stopping && !_ownEnded)
                {
                    _twinWaiting = true;
                    Monitor.Wait(_lock);
                    _twinWaiting = false;
                }
            }
            return !_stopping;
        }
    }

    /// <summary>
    /// The calling thread's shard is done with a batch: hands the sink, in order, what both shards finished as far as
    /// both have got. Rethrows the twin's exception.
    /// </summary>
    public void AfterOwnBatch()
    {
        var own = _split.Own;
        long twinOrdinal;
        lock (_lock)
        {
            _ownBatches++;
            if (_twinWaiting && _twinBatches - _ownBatches <= MaxLead / 2)
                Monitor.PulseAll(_lock);
            if (_ownBatches - _twinBatches > MaxLead)
            {
                while (_ownBatches - _twinBatches > MaxLead / 2 && !_twinEnded)
                {
                    _ownWaiting = true;
                    Monitor.Wait(_lock);
                    _ownWaiting = false;
                }
            }
            if (_error is not null)
                ExceptionDispatchInfo.Throw(_error);
            (_handedOver, _twinsFinished) = (_twinsFinished, _handedOver);
            twinOrdinal = _twinOrdinal;
        }
        // Handed over whole when nothing waits (the connections are 144 bytes each): the queues change places.
        if (_twinsPending.Count == 0)
            (_twinsPending, _handedOver) = (_handedOver, _twinsPending);
        else
            _twinsPending.TakeAll(_handedOver);
        // Only as far as the slower of the two: what the other has yet to analyse may finish connections that come first.
        FinishedQueue.Merge(own.Finished, _twinsPending, Math.Min(own.Ordinal, twinOrdinal), _split.Sink);
    }

    /// <summary>
    /// After the calling thread's last batch: waits for the twin to end, then hands over everything left but the twin's
    /// flows still open at the end: those it has finished are returned (in the order they started) for
    /// <see cref="SplitEngine.Finish"/>, or null when they are still open in the twin engine.
    /// </summary>
    public FinishedQueue? End()
    {
        lock (_lock)
        {
            _ownEnded = true;
            if (_twinWaiting)
                Monitor.PulseAll(_lock);
            while (!_twinEnded)
            {
                _ownWaiting = true;
                Monitor.Wait(_lock);
                _ownWaiting = false;
            }
        }
        Join();
        if (_error is not null)
            ExceptionDispatchInfo.Throw(_error);
        _twinsPending.TakeAll(_twinsFinished);
        // Everything finished before the end; the twin's open flows, placed after every packet, stay in the queue.
        FinishedQueue.Merge(_split.Own.Finished, _twinsPending, long.MaxValue, _split.Sink);
        return _openFinished ? _twinsPending : null;
    }

    private void Join()
    {
        if (_joined)
            return;
        _thread.Join();
        _joined = true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        Join(); // the twin's reader must be closed, and the twin engine left alone, before the caller goes on
    }
}
