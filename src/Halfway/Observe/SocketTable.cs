using System.Buffers.Binary;
using Halfway.Native;
using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// Reads the kernel's TCP socket table (IPv4 and IPv6) of one network namespace through netlink
/// sock_diag, filtered in the kernel by state and local port so that the cost follows the sockets
/// asked for, not the size of the table. Read-only: a dump changes nothing in the kernel.
/// </summary>
internal sealed class SocketTable : IDisposable
{
    private readonly NetlinkSocket _netlink;

    /// <summary>Opens the netlink socket in the calling thread's network namespace; it stays bound to it for life.</summary>
    public SocketTable()
    {
        _netlink = new NetlinkSocket(NetlinkSocket.NETLINK_SOCK_DIAG);
    }

    /// <summary>
    /// Every TCP socket in one of <paramref name="states"/> whose local port is one of
    /// <paramref name="localPorts"/> (all ports when null or empty). Asking for
    /// <see cref="TcpState.SynRecv"/> also returns request sockets: the kernel adds NEW_SYN_RECV to
    /// the filter and reports them as SYN-RECV (net/ipv4/tcp_diag.c). Request sockets carry no inode,
    /// no queues and no skmem; their <see cref="SocketRecord.Retransmits"/> is the SYN-ACKs re-sent.
    /// </summary>
    public List<SocketRecord> Read(IReadOnlyCollection<TcpState> states, IReadOnlyCollection<ushort>? localPorts = null) =>
        Read(states, localPorts, ipv4: true, ipv6: true);

    /// <summary>
    /// As <see cref="Read(IReadOnlyCollection{TcpState}, IReadOnlyCollection{ushort}?)"/>, for the chosen families only.
    /// Each family is a separate dump, and a dump of any state but LISTEN walks the kernel's whole
    /// established hash: skipping a family that cannot match halves that walk.
    /// </summary>
    internal List<SocketRecord> Read(IReadOnlyCollection<TcpState> states, IReadOnlyCollection<ushort>? localPorts, bool ipv4, bool ipv6)
    {
        uint stateBits = 0;
        foreach (var state in states)
            stateBits |= 1u << (int)state;
        var records = new List<SocketRecord>();
        if (stateBits == 0)
            return records;
        byte extensions = SockDiag.ExtensionBit(SockDiag.INET_DIAG_SKMEMINFO);
        foreach (byte family in (ReadOnlySpan<byte>)[SockDiag.AF_INET, SockDiag.AF_INET6])
        {
            if (!(family == SockDiag.AF_INET ? ipv4 : ipv6))
                continue;
            var request = SockDiag.DumpRequest(family, stateBits, extensions, localPorts);
            string? failure = null;
            _netlink.Dump(request, (type, payload) =>
            {
                if (type == NetlinkSocket.NLMSG_ERROR)
                {
                    int error = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                    if (error != 0)
                        failure = Libc.Describe(error);
                    return;
                }
                if (type != SockDiag.SOCK_DIAG_BY_FAMILY)
                    return;
                records.Add(Decode(new SockDiag.InetDiagMessage(payload)));
            });
            if (failure is not null)
                throw new IOException($"sock_diag dump of TCP sockets failed: {failure}");
        }
        return records;
    }

    private static SocketRecord Decode(SockDiag.InetDiagMessage message)
    {
        bool v4 = message.Family == SockDiag.AF_INET;
        var local = v4 ? IpEndpoint.FromV4(message.SourceAddress, message.SourcePort) : IpEndpoint.FromV6(message.SourceAddress, message.SourcePort);
        var remote = v4 ? IpEndpoint.FromV4(message.DestinationAddress, message.DestinationPort) : IpEndpoint.FromV6(message.DestinationAddress, message.DestinationPort);
        return new SocketRecord((TcpState)message.State, local, remote, message.ReceiveQueue, message.SendQueue,
            message.Retransmits, message.Expires, message.Inode, message.SkmemDrops);
    }

    public void Dispose() => _netlink.Dispose();
}
