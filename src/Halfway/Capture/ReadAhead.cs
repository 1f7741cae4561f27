using System.Collections.Concurrent;
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
    private const int Chunks = 4;

    private readonly Stream _stream;
    private readonly int _chunkLength;
    private readonly BlockingCollection<byte[]> _free = new(Chunks);
    private readonly BlockingCollection<Filled> _filled = new(Chunks);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private int _allocated;
    private bool _ended;

    /// <summary>A chunk's data is in Buffer[Headroom..(Headroom + Length)]; Length 0 is the end of the stream.</summary>
    public readonly record struct Filled(byte[]? Buffer, int Length, Exception? Error);

    public ReadAhead(Stream stream, int chunkLength = 1 << 20)
    {
        _stream = stream;
        _chunkLength = chunkLength;
        _thread = new Thread(Run) { IsBackground = true, Name = "halfway read-ahead" };
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                if (!_free.TryTake(out var buffer))
                {
                    if (_allocated < Chunks)
                    {
                        _allocated++;
                        buffer = GC.AllocateUninitializedArray<byte>(Headroom + _chunkLength);
                    }
                    else
                        buffer = _free.Take(_stop.Token);
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
                if (length > 0)
                    _filled.Add(new Filled(buffer, length, null), _stop.Token);
                if (error is not null || length < _chunkLength)
                {
                    _filled.Add(new Filled(null, 0, error), _stop.Token);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed before the end of the stream.
        }
    }

    /// <summary>The next chunk (blocks until it is read); Length 0 at the end. Rethrows a read error where it occurred.</summary>
    public Filled Next()
    {
        if (_ended)
            return default;
        var filled = _filled.Take();
        if (filled.Length == 0)
        {
            _ended = true;
            if (filled.Error is not null)
                ExceptionDispatchInfo.Throw(filled.Error);
        }
        return filled;
    }

    /// <summary>Gives a chunk back once nothing refers to its bytes any more.</summary>
    public void Return(byte[] buffer) => _free.Add(buffer);

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(); // the thread reads from the stream: it must be done before the stream is closed
        _stop.Dispose();
        _free.Dispose();
        _filled.Dispose();
    }
}
