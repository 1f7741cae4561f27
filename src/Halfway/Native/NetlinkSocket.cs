using System.Buffers.Binary;

namespace Halfway.Native;

/// <summary>
/// A netlink socket (rtnetlink, sock_diag) with request/ack and dump helpers. It belongs to the
/// network namespace of the thread that created it, for its whole life.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    public const int AF_NETLINK = 16;
    public const int NETLINK_ROUTE = 0;
    public const int NETLINK_SOCK_DIAG = 4;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLM_F_REQUEST = 1;
    public const ushort NLM_F_ACK = 4;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_DUMP = 0x300;
    public const int HeaderLength = 16;
    private const int SOCK_RAW = 3;
    private const int SOCK_CLOEXEC = 0x80000;

    private readonly int _fd;
    private uint _sequence;
    private readonly byte[] _receiveBuffer = new byte[256 * 1024];

    public NetlinkSocket(int protocol)
    {
        _fd = Libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (_fd < 0)
            throw new NativeException($"opening a netlink socket (protocol {protocol})", Libc.LastError);
        int bufferSize = 1 << 20;
        Libc.setsockopt(_fd, 1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, &bufferSize, sizeof(int));
    }

    public int Fd => _fd;

    /// <summary>Sends one request and waits for the kernel's acknowledgement; a negative error becomes an exception.</summary>
    public void Request(NetlinkMessageBuilder message, string what)
    {
        uint sequence = Send(message, (ushort)(NLM_F_REQUEST | NLM_F_ACK | message.ExtraFlags));
        int error = 0;
        bool done = false;
        while (!done)
        {
            ReceiveBatch(sequence, (type, payload) =>
            {
                if (type == NLMSG_ERROR)
                {
                    error = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                    done = true;
                }
            }, out bool finished);
            done |= finished;
        }
        if (error != 0)
            throw new NativeException(what, error);
    }

    /// <summary>Sends a dump request and hands every message of the reply to <paramref name="handler"/>.</summary>
    public void Dump(NetlinkMessageBuilder message, NetlinkMessageHandler handler)
    {
        uint sequence = Send(message, (ushort)(NLM_F_REQUEST | NLM_F_DUMP | message.ExtraFlags));
        bool finished;
        do
        {
            ReceiveBatch(sequence, handler, out finished);
        } while (!finished);
    }

    private uint Send(NetlinkMessageBuilder message, ushort flags)
    {
        uint sequence = ++_sequence;
        var bytes = message.Finish(flags, sequence);
        fixed (byte* p = bytes)
        {
            // sockaddr_nl of the kernel: family, pad, pid 0, groups 0.
            var address = stackalloc byte[12];
            new Span<byte>(address, 12).Clear();
            *(ushort*)address = AF_NETLINK;
            if (Libc.sendto(_fd, p, bytes.Length, 0, address, 12) < 0)
                throw new NativeException("netlink send", Libc.LastError);
        }
        return sequence;
    }

    private void ReceiveBatch(uint sequence, NetlinkMessageHandler handler, out bool finished)
    {
        finished = false;
        nint received;
        fixed (byte* p = _receiveBuffer)
        {
            do
            {
                received = Libc.recv(_fd, p, _receiveBuffer.Length, 0);
            } while (received < 0 && Libc.LastError == Libc.EINTR);
        }
        if (received < 0)
            throw new NativeException("netlink receive", Libc.LastError);
        var span = _receiveBuffer.AsSpan(0, (int)received);
        while (span.Length >= HeaderLength)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
            uint messageSequence = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
            if (length < HeaderLength || length > span.Length)
                break;
            if (messageSequence == sequence)
            {
                if (type == NLMSG_DONE)
                    finished = true;
                else if (type == NLMSG_ERROR)
                {
                    // Request() reads the error code from the payload; a failed dump ends here too.
                    handler(type, span[HeaderLength..length]);
                    finished = true;
                }
                else
                    handler(type, span[HeaderLength..length]);
            }
            span = span[Math.Min(span.Length, Align(length))..];
        }
    }

    public static int Align(int length) => (length + 3) & ~3;

    public void Dispose() => Libc.close(_fd);
}
