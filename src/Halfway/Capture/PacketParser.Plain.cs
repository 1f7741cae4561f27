using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Capture;

/// <summary>
/// The fast path of <see cref="Fill"/>: the common frame (a classic pcap record, Ethernet without VLAN tags, IPv4, a
/// whole TCP header, lengths that agree) read straight from the reader's buffer in one pass.
/// </summary>
/// <remarks>
/// Both threads of a split analysis parse every packet, so parsing is paid twice: through the general path (the
/// reader's record, the link layer, the IP and TCP parsers, each checking its own bounds) it was about a third of the
/// CPU on a busy capture. Any other frame (another link layer, IPv6, a VLAN tag, a damaged or cut-short one, a record
/// the buffer does not hold whole) stops the fast path before it is taken, and the general path reads it, with its
/// counts and warnings; the packets are the same either way.
/// </remarks>
internal sealed partial class PacketParser
{
    private const int EthernetHeader = 14;

    /// <summary>Parses the buffered records the fast path can take into <paramref name="packets"/> from index <paramref name="count"/>; returns the new count.</summary>
    private int FillPlain(TimedSegment[] packets, int count, CancellationToken token)
    {
        if (!reader.TryBufferedPcap(out var records, out long tick, out int limit))
            return count;
        ref byte start = ref MemoryMarshal.GetReference(records);
        int length = records.Length, position = 0, frames = 0;
        long first = long.MinValue, last = 0, tcp = 0, filtered = 0;
        while (count < packets.Length && length - position >= 16)
        {
            ref byte header = ref Unsafe.Add(ref start, position);
            Prefetch(ref Unsafe.Add(ref header, PrefetchDistance));
            uint captured = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref header, 8));
            if (captured > (uint)limit || captured > (uint)(length - position - 16) || captured < EthernetHeader + 40)
                break;
            ref byte frame = ref Unsafe.Add(ref header, 16);
            if (Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref frame, 12)) != 0x0008) // EtherType IPv4, in network order
                break;
            ref byte ip = ref Unsafe.Add(ref frame, EthernetHeader);
            int versionAndLength = ip;
            int ipHeader = (versionAndLength & 0x0f) * 4;
            int total = BigEndian16(ref Unsafe.Add(ref ip, 2));
            if (versionAndLength >> 4 != 4 || Unsafe.Add(ref ip, 9) != 6 || ipHeader < 20 || total < ipHeader
                || (BigEndian16(ref Unsafe.Add(ref ip, 6)) & 0x1fff) != 0)
                break;
            int ipLength = (int)captured - EthernetHeader;
            if (Math.Min(total, ipLength) - ipHeader < 20)
                break;
            ref byte segment = ref Unsafe.Add(ref ip, ipHeader);
            int dataOffset = (Unsafe.Add(ref segment, 12) >> 4) * 4;
            if (dataOffset < 20 || dataOffset > total - ipHeader)
                break;
            uint original = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref header, 12));
            int onWire = (int)Math.Min(Math.Max(original, captured), int.MaxValue) - EthernetHeader;
            if (total > onWire && onWire > 0)
                break; // the IP header claims more than the wire carried: the general path warns about it
            position += 16 + (int)captured;
            frames++;
            if ((++_frames & 0xffff) == 0)
                token.ThrowIfCancellationRequested();
            var source = new IpEndpoint(0, 0xffffUL << 32 | BigEndian32(ref Unsafe.Add(ref ip, 12)), BigEndian16(ref segment), false);
            var destination = new IpEndpoint(0, 0xffffUL << 32 | BigEndian32(ref Unsafe.Add(ref ip, 16)), BigEndian16(ref Unsafe.Add(ref segment, 2)), false);
            ref var packet = ref packets[count];
            // Every packet whole, also those of the other shard of a split analysis, which only need their time and
            // hash: parsing them costs less than the branch that would skip them, mispredicted every other packet.
            packet.Segment = new TcpSegment(source, destination, BigEndian32(ref Unsafe.Add(ref segment, 4)), BigEndian32(ref Unsafe.Add(ref segment, 8)),
                (TcpFlags)Unsafe.Add(ref segment, 13), BigEndian16(ref Unsafe.Add(ref segment, 14)), total - ipHeader - dataOffset);
            if (filter is not null && !filter.Matches(packet.Segment))
            {
                filtered++;
                continue;
            }
            uint hash = FlowHash.Of(source, destination);
            uint seconds = Unsafe.ReadUnaligned<uint>(ref header), fraction = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref header, 4));
            long at = (seconds * 1_000_000_000L + fraction * tick) / 1000;
            if (first == long.MinValue)
                first = at;
            last = at;
            tcp++;
            packet.At = at;
            packet.Hash = hash;
            count++;
        }
        if (frames > 0)
        {
            reader.Skip(position, frames);
            _tcp += tcp;
            _filtered += filtered;
            if (tcp > 0)
            {
                _first ??= first;
                _last = last;
            }
        }
        return count;
    }

    /// <summary>
    /// How far ahead of the record being parsed its successors are fetched (bytes): the CPU's own prefetcher stops at
    /// each 4 KiB page, and a capture's pages come from the page cache, not from any cache.
    /// </summary>
    private const int PrefetchDistance = 1024;

    /// <summary>Asks the CPU to fetch two cache lines (a record is 60 to 200 bytes); only a hint, which never faults, past the buffer too.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref byte at)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            byte* p = (byte*)Unsafe.AsPointer(ref at);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + 64);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort BigEndian16(ref byte at) => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(ref at));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint BigEndian32(ref byte at) => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref at));
}
