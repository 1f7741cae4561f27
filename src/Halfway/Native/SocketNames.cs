using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Halfway.Wire;

namespace Halfway.Native;

/// <summary>getsockname() straight from the kernel: .NET's LocalEndPoint stays null while a connect is pending.</summary>
internal static unsafe partial class SocketNames
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(nint fd, byte* address, int* length);

    public static IpEndpoint? Local(Socket socket)
    {
        var address = stackalloc byte[28];
        int length = 28;
        if (getsockname(socket.Handle, address, &length) != 0)
            return null;
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
