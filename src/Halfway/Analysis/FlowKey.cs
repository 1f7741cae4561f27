using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>A connection's 4-tuple with the two endpoints in a fixed order, so both directions find the same flow.</summary>
internal readonly struct FlowKey : IEquatable<FlowKey>
{
    public readonly IpEndpoint Low;
    public readonly IpEndpoint High;

    public FlowKey(IpEndpoint a, IpEndpoint b)
    {
        if (a.Address < b.Address || (a.Address == b.Address && a.Port <= b.Port))
        {
            Low = a;
            High = b;
        }
        else
        {
            Low = b;
            High = a;
        }
    }

    public bool Equals(FlowKey other) =>
        Low.Address == other.Low.Address && High.Address == other.High.Address && Low.Port == other.Low.Port && High.Port == other.High.Port;

    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    public override int GetHashCode()
    {
        ulong h = (ulong)Low.Address * 0x9E3779B97F4A7C15UL;
        h ^= (ulong)(Low.Address >> 64) + ((ulong)High.Address * 0xC2B2AE3D27D4EB4FUL);
        h ^= (ulong)(High.Address >> 64) * 0x165667B19E3779F9UL;
        h ^= ((ulong)Low.Port << 16 | High.Port) * 0x27D4EB2F165667C5UL;
        return (int)(h ^ (h >> 29));
    }
}
