using System.Runtime.ExceptionServices;

namespace Halfway.Capture;

/// <summary>
/// Reads a stream on a thread of its own into a few large chunks, so that the read() calls (the kernel copying the file
/// into the process) overlap the parsing instead of interrupting it. Chunks are handed over whole, not copied: each has
/// <see cref="Headroom"/> bytes free in front, where the reader moves the unread end of the previous chunk (a record cut
/// by the chunk boundary) so that the record is contiguous again.
/// </summary>
internal sealed class ReadAhead : IDisposable
{
    /// <summary>Room in front of a chunk's data for the unread end of the previous chunk: longer records are joined by copying.</summary>
    public const int Headroom = 256 * 1024;
    private const int Chunks = 3;

    private readonly Stream _stream;
    private readonly int _chunkLength;
    // One lock and Monitor.Wait for the hand-over, not BlockingCollection: its semaphore spins before it blocks, and the
    // reading thread, which is nearly always waiting for a chunk to be given back, spent ~10 % of the run spinning.
    private readonly object _lock = new();
    private readonly Stack<byte[]> _free = new();
    private readonly Queue<Filled> _filled = new();
    private readonly Thread _thread;
    private int _allocated;
    private bool _stopping;
    private bool _ended;

    /// <summary>A chunk's data is in Buffer[Headroom..(Headroom + Length)]; Length 0 is the end of the stream.</summary>
    public readonly record struct Filled(byte[]? Buffer, int Length, Exception? Error);

    public ReadAhead(Stream stream, int chunkLength = 1 << 19)
    {
        _stream = stream;
        _chunkLength = chunkLength;
        _thread = new Thread(Run) { IsBackground = true, Name = "halfway read-ahead" };
        _thread.Start();
    }

    private void Run()
    {
        while (true)
        {
            byte[] buffer;
            lock (_lock)
            {
                while (_free.Count == 0 && _allocated == Chunks && !_stopping)
                    Monitor.Wait(_lock);
                if (_stopping)
                    return;
                if (_free.Count > 0)
                    buffer = _free.Pop();
                else
                {
                    _allocated++;
                    buffer = GC.AllocateUninitializedArray<byte>(Headroom + _chunkLength);
                }
            }
            int length = 0;
            Exception? error = null;
            try
            {
                while (length < _chunkLength)
                {
                    int n = _stream.Read(buffer, Headroom + length, _chunkLength - length);
                    if (n == 0)
                        break;
                    length += n;
                }
            }
            catch (Exception e)
            {
                error = e; // handed over after the bytes read before it, where the reader would have met it
            }
            bool last = error is not null || length < _chunkLength;
            lock (_lock)
            {
                if (length > 0)
                    _filled.Enqueue(new Filled(buffer, length, null));
                if (last)
                    _filled.Enqueue(new Filled(null, 0, error));
                Monitor.PulseAll(_lock);
            }
            if (last)
                return;
        }
    }

    /// <summary>The next chunk (blocks until it is read); Length 0 at the end. Rethrows a read error where it occurred.</summary>
    public Filled Next()
    {
        if (_ended)
            return default;
        Filled filled;
        lock (_lock)
        {
            while (_filled.Count == 0)
                Monitor.Wait(_lock);
            filled = _filled.Dequeue();
        }
        if (filled.Length == 0)
        {
            _ended = true;
            if (filled.Error is not null)
                ExceptionDispatchInfo.Throw(filled.Error);
        }
        return filled;
    }

    /// <summary>Gives a chunk back once nothing refers to its bytes any more.</summary>
    public void Return(byte[] buffer)
    {
        lock (_lock)
        {
            _free.Push(buffer);
            Monitor.PulseAll(_lock);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        _thread.Join(); // the thread reads from the stream: it must be done before the stream is closed
    }
}
