using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Halfway.Wire;

namespace Halfway.Native;

/// <summary>
/// getsockname() and getpeername() straight from the kernel: .NET's LocalEndPoint stays null while a connect is pending,
/// and its endpoint properties allocate several objects per socket, which a storm of thousands of accepts pays for.
/// </summary>
internal static unsafe partial class SocketNames
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(nint fd, byte* address, int* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpeername(nint fd, byte* address, int* length);

    public static IpEndpoint? Local(Socket socket) => Query(socket.Handle, peer: false);

    public static IpEndpoint? Local(int fd) => Query(fd, peer: false);

    public static IpEndpoint? Remote(Socket socket) => Query(socket.Handle, peer: true);

    private static IpEndpoint? Query(nint fd, bool peer)
    {
        var address = stackalloc byte[28];
        int length = 28;
        int result = peer ? getpeername(fd, address, &length) : getsockname(fd, address, &length);
        return result != 0 ? null : Parse(address, length);
    }

    private static IpEndpoint? Parse(byte* address, int length)
    {
        var bytes = new ReadOnlySpan<byte>(address, length);
        ushort family = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        if (port == 0)
            return null;
        return family switch
        {
            2 when length >= 16 => IpEndpoint.FromV4(bytes.Slice(4, 4), port),
            10 when length >= 24 => IpEndpoint.FromV6(bytes.Slice(8, 16), port),
            _ => null,
        };
    }
}
