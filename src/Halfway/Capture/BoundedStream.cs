namespace Halfway.Capture;

/// <summary>
/// A stream that ends after a given number of bytes of another: two threads reading the same capture file (see
/// <see cref="TwinFeed"/>) then see the same bytes even when the file grows meanwhile (a capture still being written).
/// </summary>
internal sealed class BoundedStream(Stream inner, long length) : ForwardReadStream(inner)
{
    private long _left = length;

    public override int Read(Span<byte> buffer)
    {
        if (_left <= 0)
            return 0;
        if (buffer.Length > _left)
            buffer = buffer[..(int)_left];
        int n = Inner.Read(buffer);
        _left -= n;
        return n;
    }
}
