using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// A connection's 4-tuple with the two endpoints in a fixed order, so both directions find the same flow. Only addresses
/// and ports: IPv4 addresses are stored mapped into IPv6 space, so they cannot collide with IPv6 ones.
/// </summary>
internal readonly struct FlowKey : IEquatable<FlowKey>
{
    private readonly UInt128 _lowAddress;
    private readonly UInt128 _highAddress;
    private readonly uint _ports; // low endpoint's port << 16 | high endpoint's port

    public FlowKey(IpEndpoint a, IpEndpoint b)
    {
        if (a.Address < b.Address || (a.Address == b.Address && a.Port <= b.Port))
        {
            _lowAddress = a.Address;
            _highAddress = b.Address;
            _ports = (uint)a.Port << 16 | b.Port;
        }
        else
        {
            _lowAddress = b.Address;
            _highAddress = a.Address;
            _ports = (uint)b.Port << 16 | a.Port;
        }
    }

    public bool Equals(FlowKey other) => _ports == other._ports && _lowAddress == other._lowAddress && _highAddress == other._highAddress;

    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    public override int GetHashCode()
    {
        ulong h = (ulong)_lowAddress * 0x9E3779B97F4A7C15UL;
        h ^= (ulong)(_lowAddress >> 64) + ((ulong)_highAddress * 0xC2B2AE3D27D4EB4FUL);
        h ^= (ulong)(_highAddress >> 64) * 0x165667B19E3779F9UL;
        h ^= _ports * 0x27D4EB2F165667C5UL;
        return (int)(h ^ (h >> 29));
    }
}
