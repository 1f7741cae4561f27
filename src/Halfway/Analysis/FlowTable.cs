using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// The engine's open flows by 4-tuple: an open-addressing table that is looked up once per packet.
/// </summary>
/// <remarks>
/// It replaced a Dictionary keyed by a normalised 4-tuple. On a busy capture that cost three cache misses per lookup
/// (bucket, 56-byte entry, then the flow); here a slot is 16 bytes (the flow, its hash, when it is due) and the key is compared on the
/// flow itself, which the packet touches next anyway, in either direction, so no normalised key is built. Linear probing
/// with backward-shift deletion keeps probe chains short without deleted markers. Finished connections' tombstones live
/// apart (<see cref="TombstoneSet"/>), so the table stays as small as the open flows.
/// </remarks>
internal sealed class FlowTable
{
    private struct Slot
    {
        public Flow? Flow;
        public uint Hash;
        /// <summary>
        /// The earliest time (µs) the flow could be finished, as the engine last worked it out (its last packet plus the
        /// idle time its state allows), shifted right by 20 bits (units of ~1 s, rounded down) and wrapping at 32 bits:
        /// lets a sweep pass over flows that cannot finish yet without touching them. Compared as a difference, so it
        /// holds for captures up to 71 years long.
        /// </summary>
        public int DueUnit;
    }

    private const int InitialCapacity = 1024;
    private Slot[] _slots = new Slot[InitialCapacity];
    private int _mask = InitialCapacity - 1;

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Same(in IpEndpoint x, in IpEndpoint y) =>
        x.Port == y.Port && x.AddressLow == y.AddressLow && x.AddressHigh == y.AddressHigh;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SameTuple(in IpEndpoint a, in IpEndpoint b, in IpEndpoint c, in IpEndpoint d) =>
        (Same(a, c) && Same(b, d)) || (Same(a, d) && Same(b, c));

    /// <summary>
    /// Finds the 4-tuple's flow (either direction), or null. <paramref name="slot"/> is where <see cref="Put"/> places a
    /// flow for it: valid until the table changes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Flow? Find(in IpEndpoint a, in IpEndpoint b, uint hash, out int slot)
    {
        if (Count >= (_slots.Length >> 1))
            Grow();
        var slots = _slots;
        int mask = _mask;
        int i = (int)hash & mask;
        while (true)
        {
            ref var s = ref slots[i];
            var flow = s.Flow;
            if (flow is null)
            {
                slot = i;
                return null;
            }
            if (s.Hash == hash && SameTuple(a, b, flow.Client, flow.Server))
            {
                slot = i;
                return flow;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>
    /// Asks the CPU to fetch the 4-tuple's home slot into its cache, several packets ahead of <see cref="Find"/>: looked
    /// up one after the other, every packet waited for its slot and then for its flow (cache misses on a busy capture);
    /// fetched ahead, those waits overlap. Only a hint: nothing is read or changed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchSlot(uint hash)
    {
        if (Sse.IsSupported)
            Sse.Prefetch0(Unsafe.AsPointer(ref _slots[(int)hash & _mask]));
    }

    /// <summary>Asks the CPU to fetch slot <paramref name="slot"/> into its cache (a hint, as <see cref="PrefetchSlot"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchSlotAt(int slot)
    {
        if (Sse.IsSupported && (uint)slot < (uint)_slots.Length)
            Sse.Prefetch0(Unsafe.AsPointer(ref _slots[slot]));
    }

    /// <summary>The second step of <see cref="PrefetchSlot"/>, a few packets later: fetches the flow its home slot holds (its first four cache lines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchFlow(uint hash)
    {
        if (!Sse.IsSupported)
            return;
        ref var slot = ref _slots[(int)hash & _mask];
        if (slot.Flow is null)
            return;
        // The object's address: a hint computed and used with no allocation in between, so the GC cannot move it meanwhile
        // (and a stale address would only fetch the wrong line).
        Flow.Prefetch(slot.Flow);
    }

    /// <summary>Puts a flow in the slot <see cref="Find"/> gave for its 4-tuple: empty, or the flow it replaces.</summary>
    /// <param name="due">The earliest time (µs) the flow could be finished (see <see cref="SetDue"/>).</param>
    public void Put(int slot, Flow flow, uint hash, long due)
    {
        ref var s = ref _slots[slot];
        if (s.Flow is null)
            Count++;
        s.Flow = flow;
        s.Hash = hash;
        s.DueUnit = (int)(due >> 20);
        flow.TableHash = hash;
    }

    /// <summary>Records on the flow in <paramref name="slot"/> (which the packet's lookup has just read: no extra cache miss) the earliest time (µs) it could finish.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetDue(int slot, long due) => _slots[slot].DueUnit = (int)(due >> 20);

    /// <summary>
    /// Every flow with the slot that holds it, in slot order: the slots can be given to <see cref="RemoveAt"/>. With
    /// <paramref name="dueBy"/> (µs), only flows that may be due by then (see <see cref="SetDue"/>): the others are
    /// passed over on their slot alone, without a cache miss on the flow.
    /// </summary>
    public void CollectFlows(List<(Flow Flow, int Slot)> into, long dueBy = long.MaxValue)
    {
        var slots = _slots;
        if (dueBy == long.MaxValue)
        {
            for (int i = 0; i < slots.Length; i++)
                if (slots[i].Flow is { } flow)
                    into.Add((flow, i));
            return;
        }
        // A flow is due at or after DueUnit << 20: when that is after dueBy, it is not due yet.
        int dueByUnit = (int)(dueBy >> 20);
        for (int i = 0; i < slots.Length; i++)
            if (slots[i].Flow is { } flow && slots[i].DueUnit - dueByUnit <= 0)
                into.Add((flow, i));
    }

    /// <summary>
    /// Removes a flow found by <see cref="CollectFlows"/> at <paramref name="slot"/>. Removing in descending slot order
    /// keeps the other collected slots valid: a removal moves only entries after it (and, at the table's wrap-around,
    /// entries at its start, which are then found by their hash).
    /// </summary>
    public void RemoveAt(int slot, Flow flow)
    {
        if (!ReferenceEquals(_slots[slot].Flow, flow))
            slot = SlotOf(flow);
        Count--;
        Delete(slot);
    }

    public void Clear()
    {
        Array.Clear(_slots);
        Count = 0;
    }

    private int SlotOf(Flow flow)
    {
        int i = (int)flow.TableHash & _mask;
        while (!ReferenceEquals(_slots[i].Flow, flow))
            i = (i + 1) & _mask;
        return i;
    }

    /// <summary>Empties slot <paramref name="i"/> and moves later members of its probe chain back, so that no lookup stops short.</summary>
    private void Delete(int i)
    {
        var slots = _slots;
        int j = i;
        while (true)
        {
            j = (j + 1) & _mask;
            ref var next = ref slots[j];
            if (next.Flow is null)
                break;
            int home = (int)next.Hash & _mask;
            if (StillFound(i, j, home))
                continue;
            slots[i] = next;
            i = j;
        }
        slots[i] = default;
    }

    /// <summary>
    /// True when the entry at <paramref name="position"/>, whose home slot is <paramref name="home"/>, is still found by
    /// a lookup with a hole at <paramref name="hole"/>: its home lies cyclically in (hole, position]. Otherwise it must
    /// move into the hole.
    /// </summary>
    internal static bool StillFound(int hole, int position, int home) =>
        hole <= position ? hole < home && home <= position : hole < home || home <= position;

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        // Written whole at once: fresh memory first read by lookups is mapped to the kernel's zero page, and each first
        // write after that is a second fault that also flushes the other core's TLB (an inter-processor interrupt, slow
        // in a VM); written first, each page takes one plain fault.
        _slots.AsSpan().Clear();
        _mask = _slots.Length - 1;
        foreach (ref readonly var s in old.AsSpan())
        {
            if (s.Flow is null)
                continue;
            int i = (int)s.Hash & _mask;
            while (_slots[i].Flow is not null)
                i = (i + 1) & _mask;
            _slots[i] = s;
        }
    }
}
