using System.Runtime.InteropServices;
using System.Text;

namespace Halfway.Native;

/// <summary>Opens a TUN device (IP packets, no extra header) in the calling thread's namespace.</summary>
internal static unsafe class Tun
{
    private const nuint TUNSETIFF = 0x400454ca;
    private const short IFF_TUN = 0x0001;
    private const short IFF_NO_PI = 0x1000;

    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct IfReq
    {
        public fixed byte Name[16];
        public short Flags;
    }

    /// <summary>Returns a non-blocking fd: a blocked read would not wake when the fd closes.</summary>
    public static int Open(string interfaceName)
    {
        int fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0)
            throw new NativeException("opening /dev/net/tun", Libc.LastError);
        var request = new IfReq { Flags = IFF_TUN | IFF_NO_PI };
        var name = Encoding.ASCII.GetBytes(interfaceName);
        for (int i = 0; i < name.Length && i < 15; i++)
            request.Name[i] = name[i];
        if (Libc.ioctl(fd, TUNSETIFF, &request) < 0)
        {
            int error = Libc.LastError;
            Libc.close(fd);
            throw new NativeException($"creating TUN device {interfaceName}", error);
        }
        return fd;
    }
}
