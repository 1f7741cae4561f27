using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>
/// The netlink sock_diag protocol for TCP (linux/sock_diag.h, linux/inet_diag.h): request framing,
/// the reply's fixed header and the attributes the tool reads. Layouts are checked against the
/// kernel's uapi headers; every multi-byte field is host order except ports and addresses.
/// </summary>
internal static class SockDiag
{
    public const ushort SOCK_DIAG_BY_FAMILY = 20;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;
    public const byte IPPROTO_TCP = 6;

    // Request attributes (enum inet_diag_req_attrs).
    public const ushort INET_DIAG_REQ_BYTECODE = 1;

    // Reply attributes (enum inet_diag_attrs); the request asks for them with bit (1 << (attr - 1)) in idiag_ext.
    public const ushort INET_DIAG_MEMINFO = 1;
    public const ushort INET_DIAG_INFO = 2;
    public const ushort INET_DIAG_SKMEMINFO = 7; // after NONE, MEMINFO, INFO, VEGASINFO, CONG, TOS, TCLASS

    // Filter op codes (enum in linux/inet_diag.h).
    public const byte INET_DIAG_BC_JMP = 1;
    public const byte INET_DIAG_BC_S_EQ = 11;

    // Indices in the INET_DIAG_SKMEMINFO array of u32 (enum sk_meminfo in linux/sock_diag.h).
    public const int SK_MEMINFO_RMEM_ALLOC = 0;
    public const int SK_MEMINFO_RCVBUF = 1;
    public const int SK_MEMINFO_DROPS = 8;

    public const int MessageHeaderSize = 72;  // sizeof(struct inet_diag_msg)
    public const int RequestSize = 56;        // sizeof(struct inet_diag_req_v2)
    public const int BytecodeOpSize = 4;      // sizeof(struct inet_diag_bc_op)

    public static byte ExtensionBit(ushort attribute) => (byte)(1 << (attribute - 1));

    /// <summary>struct inet_diag_req_v2 without the socket id fields the tool never sets (they stay zero).</summary>
    [StructLayout(LayoutKind.Sequential, Size = RequestSize)]
    public struct InetDiagRequestV2
    {
        public byte Family;
        public byte Protocol;
        public byte Extensions;
        public byte Pad;
        public uint States;
        // struct inet_diag_sockid follows (48 bytes): zero means "any" for the dump.
    }

    /// <summary>Builds one dump request for <paramref name="family"/>, in-kernel filtered by state bits and local ports.</summary>
    public static NetlinkMessageBuilder DumpRequest(byte family, uint stateBits, byte extensions, IReadOnlyCollection<ushort>? localPorts)
    {
        var message = new NetlinkMessageBuilder(SOCK_DIAG_BY_FAMILY)
            .Struct(new InetDiagRequestV2 { Family = family, Protocol = IPPROTO_TCP, Extensions = extensions, States = stateBits });
        if (localPorts is { Count: > 0 })
            message.Attribute(INET_DIAG_REQ_BYTECODE, LocalPortFilter(localPorts));
        return message;
    }

    /// <summary>
    /// Filter bytecode "local port is one of ...", the way ss(8) composes an OR. The kernel accepts a
    /// socket when the program ends exactly at its length and rejects it when a jump lands 4 bytes past
    /// the end; its verifier (inet_diag_bc_audit) follows every op's "yes" jump and requires every
    /// "no" target to lie on that path, so the "yes" path must visit every op. Hence per port:
    /// [S_EQ yes=8 no=12][data op whose "no" holds the port][JMP yes=4 no=to the end], where a match
    /// reaches the JMP, which always takes its "no" (accept), and a miss skips to the next port's
    /// test. The last port has no JMP: its match reaches the end, its miss lands past it.
    /// </summary>
    public static byte[] LocalPortFilter(IReadOnlyCollection<ushort> ports)
    {
        var distinct = ports.Distinct().ToArray();
        if (distinct.Length == 0)
            throw new ArgumentException("a port filter needs at least one port", nameof(ports));
        const int testSize = 2 * BytecodeOpSize;
        const int stride = testSize + BytecodeOpSize;
        var code = new byte[distinct.Length * stride - BytecodeOpSize];
        for (int i = 0; i < distinct.Length; i++)
        {
            var op = code.AsSpan(i * stride);
            op[0] = INET_DIAG_BC_S_EQ;
            op[1] = testSize;                                                  // yes: the JMP (or the end)
            BinaryPrimitives.WriteUInt16LittleEndian(op[2..], stride);         // no: the next test (or past the end)
            BinaryPrimitives.WriteUInt16LittleEndian(op[6..], distinct[i]);    // data op: port in host order
            if (i == distinct.Length - 1)
                break;
            var jump = op[testSize..];
            int toEnd = code.Length - (i * stride + testSize);
            jump[0] = INET_DIAG_BC_JMP;
            jump[1] = BytecodeOpSize;                                          // yes: never taken by a JMP
            BinaryPrimitives.WriteUInt16LittleEndian(jump[2..], checked((ushort)toEnd)); // no: the end = accept
        }
        return code;
    }

    /// <summary>The fields of struct inet_diag_msg the tool reads, decoded from a reply's payload.</summary>
    public readonly ref struct InetDiagMessage
    {
        private readonly ReadOnlySpan<byte> _payload;

        public InetDiagMessage(ReadOnlySpan<byte> payload)
        {
            if (payload.Length < MessageHeaderSize)
                throw new IOException($"sock_diag reply too short: {payload.Length} bytes, expected at least {MessageHeaderSize}");
            _payload = payload;
        }

        public byte Family => _payload[0];
        public byte State => _payload[1];
        public byte Timer => _payload[2];
        public byte Retransmits => _payload[3];
        public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_payload[4..]);
        public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_payload[6..]);
        public ReadOnlySpan<byte> SourceAddress => _payload.Slice(8, Family == AF_INET ? 4 : 16);
        public ReadOnlySpan<byte> DestinationAddress => _payload.Slice(24, Family == AF_INET ? 4 : 16);
        public uint Expires => BinaryPrimitives.ReadUInt32LittleEndian(_payload[52..]);
        public uint ReceiveQueue => BinaryPrimitives.ReadUInt32LittleEndian(_payload[56..]);
        public uint SendQueue => BinaryPrimitives.ReadUInt32LittleEndian(_payload[60..]);
        public uint Uid => BinaryPrimitives.ReadUInt32LittleEndian(_payload[64..]);
        public ulong Inode => BinaryPrimitives.ReadUInt32LittleEndian(_payload[68..]);

        /// <summary>The value of attribute <paramref name="type"/>, or an empty span when the reply has none.</summary>
        public ReadOnlySpan<byte> Attribute(ushort type)
        {
            var rest = _payload[NetlinkSocket.Align(MessageHeaderSize)..];
            while (rest.Length >= 4)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
                ushort attributeType = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]) & 0x3fff);
                if (length < 4 || length > rest.Length)
                    break;
                if (attributeType == type)
                    return rest[4..length];
                rest = rest[Math.Min(rest.Length, NetlinkSocket.Align(length))..];
            }
            return default;
        }

        /// <summary>The socket's drop count from INET_DIAG_SKMEMINFO (what `ss -tm` prints as d), or 0 without it.</summary>
        public uint SkmemDrops
        {
            get
            {
                var skmem = Attribute(INET_DIAG_SKMEMINFO);
                int offset = SK_MEMINFO_DROPS * 4;
                return skmem.Length >= offset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(skmem[offset..]) : 0;
            }
        }
    }
}
