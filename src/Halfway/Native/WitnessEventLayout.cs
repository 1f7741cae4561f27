using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>
/// One record of the witness's ring buffer, byte for byte as <c>struct witness_event</c> in bpf/witness.bpf.c
/// (keep both in step; a unit test pins the size). Addresses are in network order, ports and numbers in host order.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct WitnessEventLayout
{
    public const int Size = 96;
    public const uint KindDrop = 1, KindSynAck = 2, KindResetSent = 3, KindResetReceived = 4;

    public ulong AtNanoseconds;
    public uint Kind;
    public uint Reason;
    public uint NetworkNamespace;
    public ushort Family;
    public byte TcpFlags;
    public byte HasListener;
    public fixed byte LocalAddress[16];
    public fixed byte RemoteAddress[16];
    public ushort LocalPort;
    public ushort RemotePort;
    public uint Sequence;
    public uint Acknowledgment;
    public uint AcceptQueueLength;
    public uint AcceptQueueLimit;
    public fixed byte ListenerAddress[16];
    public ushort ListenerPort;
    public ushort Padding;
}
