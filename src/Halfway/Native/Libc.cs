using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>The libc calls the lab needs; every P/Invoke of the project lives in this folder.</summary>
internal static partial class Libc
{
    public const int CLONE_NEWNET = 0x40000000;
    public const int O_RDWR = 2;
    public const int O_RDONLY = 0;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const short POLLIN = 1;
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EPERM = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    public const int CLOCK_THREAD_CPUTIME_ID = 3;

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int clock_gettime(int clock, TimeSpec* time);

    /// <summary>CPU time the calling thread has used (not wall time: a preempted thread's wait is not its cost).</summary>
    public static unsafe TimeSpan ThreadCpuTime()
    {
        TimeSpec time;
        return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0
            ? TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100)
            : TimeSpan.Zero;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int ioctl(int fd, nuint request, void* arg);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int ppoll(PollFd* fds, nuint count, TimeSpec* timeout, void* sigmask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int bind(int fd, void* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint sendto(int fd, byte* buffer, nint length, int flags, void* address, int addressLength);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int getsockopt(int fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int connect(int fd, void* address, int length);

    public static unsafe int SetSocketOption(int fd, int level, int name, int value) => setsockopt(fd, level, name, &value, sizeof(int));

    public const int AF_INET = 2;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int EINPROGRESS = 115;

    [StructLayout(LayoutKind.Sequential)]
    public struct Linger
    {
        public int OnOff;
        public int Seconds;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string name);

    [LibraryImport("libc")]
    public static partial int getpid();

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    public const int RLIMIT_NOFILE = 7;

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int getrlimit(int resource, RLimit* limit);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int setrlimit(int resource, RLimit* limit);

    /// <summary>Raises the soft fd limit to the hard one (allowed without privileges) and returns it.</summary>
    public static unsafe ulong RaiseFileLimit()
    {
        RLimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
            return 1024;
        if (limit.Current < limit.Maximum)
        {
            var raised = new RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
                return raised.Current;
        }
        return limit.Current;
    }

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc", EntryPoint = "syscall")]
    public static partial long syscall0(long number);

    private const long SYS_gettid = 186; // x86_64

    public static int GetThreadId() => (int)syscall0(SYS_gettid);

    public const int EEXIST = 17;

    /// <summary>Fails with EEXIST when the path exists: unlike Directory.CreateDirectory, it tells two processes which one made it.</summary>
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdir(string path, uint mode);

    /// <summary>Ends the process at once: no finalizers, no ProcessExit handlers, no waiting for other threads.</summary>
    [LibraryImport("libc", EntryPoint = "_exit")]
    public static partial void Exit(int status);

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;
    public const int ESRCH = 3;

    /// <summary>A negative <paramref name="pid"/> signals every process of that process group.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    public static int LastError => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => $"{Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})";
}
