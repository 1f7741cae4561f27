using System.Net;
using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>The few rtnetlink requests a lab host needs: bring a link up, add an address.</summary>
internal static class RtNetlink
{
    private const ushort RTM_NEWLINK = 16;
    private const ushort RTM_NEWADDR = 20;
    private const ushort IFA_ADDRESS = 1;
    private const ushort IFA_LOCAL = 2;
    private const uint IFF_UP = 1;
    private const ushort IFLA_TXQLEN = 13;

    [StructLayout(LayoutKind.Sequential)]
    private struct IfInfoMsg
    {
        public byte Family;
        public byte Pad;
        public ushort Type;
        public int Index;
        public uint Flags;
        public uint Change;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IfAddrMsg
    {
        public byte Family;
        public byte PrefixLength;
        public byte Flags;
        public byte Scope;
        public uint Index;
    }

    /// <summary>Must run on the thread of the namespace that owns the interface.</summary>
    public static void SetLinkUp(string interfaceName, uint? transmitQueueLength = null)
    {
        int index = IndexOf(interfaceName);
        using var netlink = new NetlinkSocket(NetlinkSocket.NETLINK_ROUTE);
        var request = new NetlinkMessageBuilder(RTM_NEWLINK).Struct(new IfInfoMsg { Index = index, Flags = IFF_UP, Change = IFF_UP });
        if (transmitQueueLength is { } length)
            request.Attribute(IFLA_TXQLEN, BitConverter.GetBytes(length));
        netlink.Request(request, $"bringing {interfaceName} up");
    }

    public static void AddAddress(string interfaceName, IPAddress address, int prefixLength)
    {
        int index = IndexOf(interfaceName);
        var bytes = address.GetAddressBytes();
        using var netlink = new NetlinkSocket(NetlinkSocket.NETLINK_ROUTE);
        netlink.Request(new NetlinkMessageBuilder(RTM_NEWADDR, NetlinkSocket.NLM_F_CREATE | NetlinkSocket.NLM_F_EXCL)
            .Struct(new IfAddrMsg
            {
                Family = (byte)(bytes.Length == 4 ? 2 : 10),
                PrefixLength = (byte)prefixLength,
                Index = (uint)index,
            })
            .Attribute(IFA_LOCAL, bytes)
            .Attribute(IFA_ADDRESS, bytes), $"adding {address}/{prefixLength} to {interfaceName}");
    }

    private static int IndexOf(string interfaceName)
    {
        uint index = Libc.if_nametoindex(interfaceName);
        if (index == 0)
            throw new NativeException($"finding interface {interfaceName} in this namespace", Libc.LastError);
        return (int)index;
    }
}
