namespace Halfway.Capture;

/// <summary>
/// A read-only stream that ends after a given number of bytes of another: two threads reading the same capture file
/// (see <see cref="TwinFeed"/>) then see the same bytes even when the file grows meanwhile (a capture still being written).
/// </summary>
internal sealed class BoundedStream(Stream inner, long length) : Stream
{
    private long _left = length;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_left <= 0)
            return 0;
        if (buffer.Length > _left)
            buffer = buffer[..(int)_left];
        int n = inner.Read(buffer);
        _left -= n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
