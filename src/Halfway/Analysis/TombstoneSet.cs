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
///
/// They are kept in two generations, each a table of its own: new ones go to the current generation, and when every
/// tombstone of the previous generation has expired it is emptied at once and becomes the current one. Expiry is then
/// one clear of a table every 10 s instead of a pass over every tombstone every 2 s with a removal each (together 6 % of
/// a busy capture's analysis). The cost: a tombstone can outlive its 10 s by up to one generation, which lookups do not
/// see (they compare the time), and a miss looks in both tables.
/// </remarks>
internal sealed class TombstoneSet
{
    private Generation _current = new(), _previous = new();

    /// <summary>Tombstones held, expired ones not yet dropped included.</summary>
    public int Count => _current.Count + _previous.Count;

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

    /// <summary>When the last connection on this 4-tuple closed, if it has a tombstone; else long.MinValue. It may be older than the expiry.</summary>
    public long ClosedAt(in IpEndpoint a, in IpEndpoint b)
    {
        if (Count == 0)
            return long.MinValue;
        ulong fingerprint = FingerprintOf(a, b);
        // A renewed tombstone is in the current generation; an older one of the same 4-tuple may still be in the previous.
        long closedAt = _current.Find(fingerprint);
        return closedAt != long.MinValue ? closedAt : _previous.Find(fingerprint);
    }

    /// <summary>Asks the CPU to fetch the place <see cref="Add"/> will look at first for this 4-tuple (a hint).</summary>
    public void PrefetchFor(in IpEndpoint a, in IpEndpoint b) => _current.Prefetch(FingerprintOf(a, b));

    /// <summary>Adds (or renews) the tombstone of a connection that closed at <paramref name="closedAt"/>.</summary>
    public void Add(in IpEndpoint a, in IpEndpoint b, long closedAt) => _current.Add(FingerprintOf(a, b), closedAt);

    /// <summary>Drops the tombstones of connections closed before <paramref name="closedBefore"/> once a whole generation of them has.</summary>
    public void Expire(long closedBefore)
    {
        if (_previous.Newest >= closedBefore)
            return;
        _previous.Clear();
        (_previous, _current) = (_current, _previous);
        // The new current generation will hold at least as many as the one before it: grown to that size at once, not
        // by doubling from its first size (each step fresh memory and a rehash).
        _current.Reserve(_previous.Capacity);
    }

    /// <summary>One generation: an open-addressing table of fingerprints and times, never shrunk (it is reused).</summary>
    private sealed class Generation
    {
        private struct Entry
        {
            public ulong Fingerprint; // 0: empty
            public long ClosedAt;
        }

        private Entry[] _entries = new Entry[1024];
        private int _mask = 1023;

        public int Count { get; private set; }
        /// <summary>The latest close time held (long.MinValue when empty).</summary>
        public long Newest { get; private set; } = long.MinValue;

        public long Find(ulong fingerprint)
        {
            if (Count == 0)
                return long.MinValue;
            var entries = _entries;
            int i = (int)fingerprint & _mask;
            while (true)
            {
                ref var e = ref entries[i];
                if (e.Fingerprint == fingerprint)
                    return e.ClosedAt;
                if (e.Fingerprint == 0)
                    return long.MinValue;
                i = (i + 1) & _mask;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Prefetch(ulong fingerprint)
        {
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _entries[(int)fingerprint & _mask]));
        }

        public void Add(ulong fingerprint, long closedAt)
        {
            // Up to three quarters full: lookups are rare (packets with no flow and no SYN).
            if (Count >= _entries.Length - (_entries.Length >> 2))
                Grow();
            var entries = _entries;
            int i = (int)fingerprint & _mask;
            while (entries[i].Fingerprint != 0 && entries[i].Fingerprint != fingerprint)
                i = (i + 1) & _mask;
            if (entries[i].Fingerprint == 0)
                Count++;
            entries[i] = new Entry { Fingerprint = fingerprint, ClosedAt = closedAt };
            Newest = Math.Max(Newest, closedAt);
        }

        public int Capacity => _entries.Length;

        /// <summary>Makes room for <paramref name="capacity"/> slots; only while empty.</summary>
        public void Reserve(int capacity)
        {
            if (Count > 0 || capacity <= _entries.Length)
                return;
            _entries = NewEntries(capacity);
            _mask = capacity - 1;
        }

        /// <summary>
        /// Empty slots, written whole at once: fresh memory first read by lookups is mapped to the kernel's zero page,
        /// and each first write after that is a second fault (see FlowTable.Grow). Not zeroed by the runtime first: the
        /// clear does it.
        /// </summary>
        private static Entry[] NewEntries(int capacity)
        {
            var entries = GC.AllocateUninitializedArray<Entry>(capacity);
            entries.AsSpan().Clear();
            return entries;
        }

        public void Clear()
        {
            if (Count > 0)
                Array.Clear(_entries);
            Count = 0;
            Newest = long.MinValue;
        }

        private void Grow()
        {
            var old = _entries;
            _entries = NewEntries(old.Length * 2);
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
}
