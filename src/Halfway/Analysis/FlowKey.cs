using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// A connection's 4-tuple with the two endpoints in a fixed order, so both directions find the same flow. Only addresses
/// and ports: IPv4 addresses are stored mapped into IPv6 space, so they cannot collide with IPv6 ones.
/// </summary>
/// <remarks>
/// The addresses are kept as 64-bit halves, not as UInt128: UInt128 is 16-byte aligned, which made the key 48 bytes and a
/// flow table entry 80 (two cache lines for most entries); as halves the key is 40 bytes and an entry 56. The table is
/// looked up once per packet, so its entries' size is what the lookup costs on a busy capture.
/// </remarks>
internal readonly struct FlowKey : IEquatable<FlowKey>
{
    private readonly ulong _lowAddressHigh, _lowAddressLow;
    private readonly ulong _highAddressHigh, _highAddressLow;
    private readonly uint _ports; // low endpoint's port << 16 | high endpoint's port

    public FlowKey(IpEndpoint a, IpEndpoint b)
    {
        bool aFirst = a.AddressHigh < b.AddressHigh
            || (a.AddressHigh == b.AddressHigh && (a.AddressLow < b.AddressLow || (a.AddressLow == b.AddressLow && a.Port <= b.Port)));
        if (aFirst)
        {
            (_lowAddressHigh, _lowAddressLow) = (a.AddressHigh, a.AddressLow);
            (_highAddressHigh, _highAddressLow) = (b.AddressHigh, b.AddressLow);
            _ports = (uint)a.Port << 16 | b.Port;
        }
        else
        {
            (_lowAddressHigh, _lowAddressLow) = (b.AddressHigh, b.AddressLow);
            (_highAddressHigh, _highAddressLow) = (a.AddressHigh, a.AddressLow);
            _ports = (uint)b.Port << 16 | a.Port;
        }
    }

    public bool Equals(FlowKey other) =>
        _ports == other._ports && _lowAddressLow == other._lowAddressLow && _highAddressLow == other._highAddressLow
        && _lowAddressHigh == other._lowAddressHigh && _highAddressHigh == other._highAddressHigh;

    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    public override int GetHashCode()
    {
        ulong h = _lowAddressLow * 0x9E3779B97F4A7C15UL;
        h ^= _lowAddressHigh + (_highAddressLow * 0xC2B2AE3D27D4EB4FUL);
        h ^= _highAddressHigh * 0x165667B19E3779F9UL;
        h ^= _ports * 0x27D4EB2F165667C5UL;
        return (int)(h ^ (h >> 29));
    }
}
