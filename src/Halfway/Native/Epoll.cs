using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>
/// epoll: a storm's connects are harvested in batches by one thread, as a C client does, instead of one .NET
/// socket-engine operation and thread-pool hop each.
/// </summary>
internal static unsafe partial class Epoll
{
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLONESHOT = 1u << 30;
    public const int EPOLL_CLOEXEC = 0x80000;

    /// <summary>struct epoll_event: packed on x86_64.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct Event
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, Event* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, Event* events, int maxEvents, int timeoutMs);
}
