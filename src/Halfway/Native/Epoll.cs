using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>
/// epoll, non-blocking connect() and getsockopt(): a storm's connects are started and harvested in batches by one
/// thread, as a C client does, instead of one .NET socket-engine operation and thread-pool hop each.
/// </summary>
internal static unsafe partial class Epoll
{
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLONESHOT = 1u << 30;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int AF_INET = 2;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int SO_KEEPALIVE = 9;
    public const int SO_LINGER = 13;
    public const int TCP_NODELAY = 1;
    public const int TCP_KEEPIDLE = 4;
    public const int TCP_KEEPINTVL = 5;
    public const int TCP_KEEPCNT = 6;
    public const int EINTR = 4;
    public const int EINPROGRESS = 115;

    /// <summary>struct epoll_event: packed on x86_64.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct Event
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Linger
    {
        public int OnOff;
        public int Seconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, Event* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, Event* events, int maxEvents, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int fd, void* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, int* length);

    public static int SetInt(int fd, int level, int name, int value) => Libc.setsockopt(fd, level, name, &value, sizeof(int));
}
