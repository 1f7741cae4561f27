using System.Runtime.CompilerServices;

namespace Halfway.Wire;

/// <summary>
/// The hash of a TCP connection's 4-tuple, the same in both directions: the parser computes it once per packet, the
/// flow table finds the flow by it, and a split analysis shares the flows out by it.
/// </summary>
internal static class FlowHash
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Of(in IpEndpoint a, in IpEndpoint b)
    {
        // A sum of the two ends, so that the direction does not matter; then mixed, because the table takes its slot
        // from the low bits and the split its share from the top ones.
        ulong x = Mix(a) + Mix(b);
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        return (uint)x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(in IpEndpoint e) =>
        ((e.AddressLow ^ ((ulong)e.Port << 48)) * 0x9E3779B97F4A7C15UL) ^ (e.AddressHigh * 0xC2B2AE3D27D4EB4FUL) ^ e.Port;
}
