using System.Buffers.Binary;
using System.Net.Sockets;
using Halfway.Native;
using Halfway.Observe;

namespace Halfway.Traffic;

/// <summary>The fields of the kernel's TCP_INFO for a socket that the reports use.</summary>
internal readonly record struct TcpInfo(
    string State,
    int Retransmits,
    int Probes,
    int Backoff,
    long RtoMicroseconds,
    int Unacked,
    int Lost,
    long RttMicroseconds,
    int TotalRetransmissions)
{
    public static TcpInfo Read(Socket socket)
    {
        Span<byte> raw = stackalloc byte[TcpInfoLayout.Size];
        int length = socket.GetRawSocketOption(TcpInfoLayout.Level, TcpInfoLayout.OptionName, raw);
        return Parse(raw[..length]);
    }

    public static unsafe TcpInfo? Read(int fd)
    {
        byte* raw = stackalloc byte[TcpInfoLayout.Size];
        int length = TcpInfoLayout.Size;
        if (Libc.getsockopt(fd, TcpInfoLayout.Level, TcpInfoLayout.OptionName, raw, &length) != 0)
            return null;
        return Parse(new ReadOnlySpan<byte>(raw, length));
    }

    public static TcpInfo Parse(ReadOnlySpan<byte> raw)
    {
        int state = raw.Length > 0 ? raw[TcpInfoLayout.State] : 0;
        return new TcpInfo(
            TcpStateNames.Of(state),
            raw.Length > TcpInfoLayout.Retransmits ? raw[TcpInfoLayout.Retransmits] : 0,
            raw.Length > TcpInfoLayout.Probes ? raw[TcpInfoLayout.Probes] : 0,
            raw.Length > TcpInfoLayout.Backoff ? raw[TcpInfoLayout.Backoff] : 0,
            U32(raw, TcpInfoLayout.Rto),
            (int)U32(raw, TcpInfoLayout.Unacked),
            (int)U32(raw, TcpInfoLayout.Lost),
            U32(raw, TcpInfoLayout.Rtt),
            (int)U32(raw, TcpInfoLayout.TotalRetrans));
    }

    private static uint U32(ReadOnlySpan<byte> raw, int offset) =>
        offset + 4 <= raw.Length ? BinaryPrimitives.ReadUInt32LittleEndian(raw[offset..]) : 0;
}
