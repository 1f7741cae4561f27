using System.Runtime.CompilerServices;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// The 4-tuples of closed connections already finished, with the time each closed: a packet on one of them soon after
/// (a re-sent FIN, a last ACK) is a straggler, not a new connection.
/// </summary>
/// <remarks>
/// A busy capture holds several times more tombstones than open flows (they last 10 s, closed flows linger 2 s), and
/// every closed connection adds and later removes one, so they are kept small: 16 bytes, a 64-bit fingerprint of the
/// 4-tuple and the time. Two 4-tuples with the same fingerprint would make a packet of the second look like a straggler
/// of the first for at most 10 s; with 64 bits and tens of thousands of tombstones the odds are below 1 in 10^10 per
/// lookup, and lookups happen only for packets that match no open flow and carry no SYN.
/// </remarks>
internal sealed class TombstoneSet
{
    private struct Entry
    {
        public ulong Fingerprint; // 0: empty
        public long ClosedAt;
    }

    private Entry[] _entries = new Entry[1024];
    private int _mask = 1023;
    private readonly List<int> _expired = [];

    public int Count { get; private set; }

    /// <summary>The 4-tuple's fingerprint, the same in both directions, never 0.</summary>
    public static ulong FingerprintOf(in IpEndpoint a, in IpEndpoint b)
    {
        ulong x = Mix(a) + Mix(b);
        x ^= x >> 31;
        x *= 0x7fb5d329728ea185UL;
        x ^= x >> 27;
        x *= 0x81dadef4bc2dd44dUL;
        x ^= x >> 33;
        return x == 0 ? 1 : x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(in IpEndpoint e)
    {
        ulong x = (e.AddressLow * 0xbf58476d1ce4e5b9UL) ^ (e.AddressHigh * 0x94d049bb133111ebUL) ^ ((ulong)e.Port * 0x9E3779B97F4A7C15UL);
        return x ^ (x >> 29);
    }

    /// <summary>When a connection on this 4-tuple closed, if it has a tombstone; else long.MinValue.</summary>
    public long ClosedAt(in IpEndpoint a, in IpEndpoint b)
    {
        if (Count == 0)
            return long.MinValue;
        ulong fingerprint = FingerprintOf(a, b);
        int i = (int)fingerprint & _mask;
        while (true)
        {
            ref var e = ref _entries[i];
            if (e.Fingerprint == fingerprint)
                return e.ClosedAt;
            if (e.Fingerprint == 0)
                return long.MinValue;
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds (or renews) the tombstone of a connection that closed at <paramref name="closedAt"/>.</summary>
    public void Add(in IpEndpoint a, in IpEndpoint b, long closedAt)
    {
        // Up to three quarters full: lookups are rare (packets with no flow and no SYN), and the table is a fresh
        // allocation every time it doubles.
        if (Count >= _entries.Length - (_entries.Length >> 2))
            Grow();
        ulong fingerprint = FingerprintOf(a, b);
        int i = (int)fingerprint & _mask;
        while (_entries[i].Fingerprint != 0 && _entries[i].Fingerprint != fingerprint)
            i = (i + 1) & _mask;
        if (_entries[i].Fingerprint == 0)
            Count++;
        _entries[i] = new Entry { Fingerprint = fingerprint, ClosedAt = closedAt };
    }

    /// <summary>Removes the tombstones of connections closed before <paramref name="closedBefore"/>.</summary>
    public void Expire(long closedBefore)
    {
        if (Count == 0)
            return;
        var expired = _expired;
        expired.Clear();
        var entries = _entries;
        for (int i = 0; i < entries.Length; i++)
            if (entries[i].Fingerprint != 0 && entries[i].ClosedAt < closedBefore)
                expired.Add(i);
        // In descending order a removal moves only entries after it, already dealt with. At the table's wrap-around it
        // can move an entry from the start to the end, past the loop: that one stays until the next expiry (lookups
        // compare the time anyway), and whatever took its slot is removed only if it expired too.
        for (int k = expired.Count - 1; k >= 0; k--)
        {
            int i = expired[k];
            if (entries[i].Fingerprint != 0 && entries[i].ClosedAt < closedBefore)
            {
                Count--;
                Delete(i);
            }
        }
        expired.Clear();
    }

    private void Delete(int i)
    {
        var entries = _entries;
        int j = i;
        while (true)
        {
            j = (j + 1) & _mask;
            if (entries[j].Fingerprint == 0)
                break;
            int home = (int)entries[j].Fingerprint & _mask;
            if (LinearProbing.StillFound(i, j, home))
                continue;
            entries[i] = entries[j];
            i = j;
        }
        entries[i] = default;
    }

    private void Grow()
    {
        var old = _entries;
        _entries = new Entry[old.Length * 2];
        _mask = _entries.Length - 1;
        foreach (var e in old)
        {
            if (e.Fingerprint == 0)
                continue;
            int i = (int)e.Fingerprint & _mask;
            while (_entries[i].Fingerprint != 0)
                i = (i + 1) & _mask;
            _entries[i] = e;
        }
    }
}
