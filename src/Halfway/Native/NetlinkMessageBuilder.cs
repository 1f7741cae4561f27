using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Halfway.Native;

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
