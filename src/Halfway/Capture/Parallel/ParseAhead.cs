using System.Runtime.ExceptionServices;

namespace Halfway.Capture.Parallel;

/// <summary>
/// Reads and parses a capture on a thread of its own, handing batches of parsed packets to the thread that analyses them:
/// on a big capture the analysis is most of the work, and reading (the kernel's copy, or decompression) and parsing
/// then take the second core instead of waiting their turn. Packets keep their order; the reader's warnings and
/// counts are read once <see cref="Next"/> has returned null.
/// </summary>
/// <remarks>
/// Used for big compressed captures: plain ones are read twice instead (<see cref="TwinFeed"/>), which is faster because
/// the parsed packets, written on one core and read on the other, cost more to hand over than to parse again.
/// </remarks>
internal sealed class ParseAhead : IDisposable
{
    /// <summary>Packets per batch: a handover (a lock, sometimes a wake-up) per 4,096 packets costs nothing measurable.</summary>
    public const int BatchLength = 4096;
    private const int Batches = 6;

    private readonly PacketParser _parser;
    private readonly CancellationToken _token;
    // One lock and Monitor.Wait for the handover, not BlockingCollection: its semaphore spins before it blocks, which on
    // 2 cores takes time from the other thread (it cost 10 % in an earlier read-ahead thread). The parsing thread,
    // usually the faster, waits until half the batches are free again before it is woken: fewer wake-ups.
    private readonly object _lock = new();
    private readonly Stack<PacketBatch> _free = new();
    private readonly Queue<PacketBatch> _filled = new();
    private readonly Thread _thread;
    private int _allocated;
    private bool _parserWaiting;
    private bool _analyserWaiting;
    private bool _stopping;
    private bool _done;
    private bool _ended;
    private Exception? _error;
    private static int s_running;

    /// <summary>Parsing threads of this process not yet finished (tests check that none is left behind).</summary>
    internal static int Running => Volatile.Read(ref s_running);

    public ParseAhead(PacketParser parser, CancellationToken token)
    {
        _parser = parser;
        _token = token;
        _thread = new Thread(Run) { IsBackground = true, Name = "halfway parse-ahead" };
        _thread.Start();
    }

    private void Run()
    {
        Interlocked.Increment(ref s_running);
        try
        {
            while (true)
            {
                PacketBatch batch;
                lock (_lock)
                {
                    if (_free.Count == 0 && _allocated < Batches)
                    {
                        _allocated++;
                        _free.Push(new PacketBatch(BatchLength));
                    }
                    while (_free.Count == 0 && !_stopping)
                    {
                        _parserWaiting = true;
                        Monitor.Wait(_lock);
                        _parserWaiting = false;
                    }
                    if (_stopping)
                        return;
                    batch = _free.Pop();
                }
                bool more = _parser.Fill(batch, _token);
                lock (_lock)
                {
                    if (more)
                        _filled.Enqueue(batch);
                    else
                        _done = true;
                    if (_analyserWaiting)
                        Monitor.Pulse(_lock);
                }
                if (!more)
                    return;
            }
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                _error = e; // handed over after the batches parsed before it, where a single thread would have met it
                _done = true;
                if (_analyserWaiting)
                    Monitor.Pulse(_lock);
            }
        }
        finally
        {
            Interlocked.Decrement(ref s_running);
        }
    }

    /// <summary>The next batch (blocks until it is parsed); null at the end. Rethrows the parsing thread's exception where it occurred.</summary>
    public PacketBatch? Next()
    {
        if (_ended)
            return null;
        lock (_lock)
        {
            while (_filled.Count == 0 && !_done)
            {
                _analyserWaiting = true;
                Monitor.Wait(_lock);
                _analyserWaiting = false;
            }
            if (_filled.Count > 0)
                return _filled.Dequeue();
        }
        _ended = true;
        _thread.Join(); // the reader's state (warnings, counts) is read next: the thread must be done with it
        if (_error is not null)
            ExceptionDispatchInfo.Throw(_error);
        return null;
    }

    /// <summary>Gives a batch back once the engine is done with it.</summary>
    public void Return(PacketBatch batch)
    {
        lock (_lock)
        {
            _free.Push(batch);
            if (_parserWaiting && _free.Count >= Batches / 2)
                Monitor.Pulse(_lock);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        _thread.Join(); // the thread reads the file: it must be done before the reader is disposed
    }
}
