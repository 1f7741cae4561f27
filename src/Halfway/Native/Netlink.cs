using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>Handles one kernel message of a netlink reply: its type and its payload after the header.</summary>
internal delegate void NetlinkMessageHandler(ushort type, ReadOnlySpan<byte> payload);

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

/// <summary>Builds one netlink message: header, a fixed family struct, then attributes.</summary>
internal sealed class NetlinkMessageBuilder
{
    private byte[] _buffer = new byte[1024];
    private int _length = NetlinkSocket.HeaderLength;
    private readonly ushort _type;

    public NetlinkMessageBuilder(ushort type, ushort extraFlags = 0)
    {
        _type = type;
        ExtraFlags = extraFlags;
    }

    public ushort ExtraFlags { get; }

    public NetlinkMessageBuilder Struct<T>(T value) where T : unmanaged
    {
        EnsureRoom(Marshal.SizeOf<T>());
        MemoryMarshal.Write(_buffer.AsSpan(_length), in value);
        _length = NetlinkSocket.Align(_length + Marshal.SizeOf<T>());
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        EnsureRoom(4 + value.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_length), (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_length + 2), type);
        value.CopyTo(_buffer.AsSpan(_length + 4));
        _length = NetlinkSocket.Align(_length + 4 + value.Length);
        return this;
    }

    /// <summary>Grows the buffer for large attributes (e.g. a sock_diag filter of many ports).</summary>
    private void EnsureRoom(int bytes)
    {
        int needed = NetlinkSocket.Align(_length + bytes);
        if (needed > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
    }

    public byte[] Finish(ushort flags, uint sequence)
    {
        var span = _buffer.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)_length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], _type);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], 0);
        return _buffer.AsSpan(0, _length).ToArray();
    }
}
