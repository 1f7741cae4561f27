namespace Halfway.Capture;

/// <summary>A stream that returns some bytes already read, then the rest of another stream: lets the reader sniff a gzip magic without seeking.</summary>
internal sealed class ConcatenatedStream(byte[] prefix, Stream rest) : ForwardReadStream(rest)
{
    private int _prefixPosition;

    public override int Read(Span<byte> buffer)
    {
        if (_prefixPosition < prefix.Length)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _prefixPosition);
            prefix.AsSpan(_prefixPosition, n).CopyTo(buffer);
            _prefixPosition += n;
            return n;
        }
        return Inner.Read(buffer);
    }
}
