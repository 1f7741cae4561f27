using System.Net.Sockets;

namespace Halfway.Native;

/// <summary>Linux errno numbers and names, so that results read like the man pages.</summary>
internal static class Errno
{
    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [4] = "EINTR", [5] = "EIO", [9] = "EBADF", [11] = "EAGAIN",
        [12] = "ENOMEM", [13] = "EACCES", [16] = "EBUSY", [17] = "EEXIST", [19] = "ENODEV", [22] = "EINVAL",
        [24] = "EMFILE", [23] = "ENFILE", [32] = "EPIPE", [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT",
        [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [100] = "ENETDOWN", [101] = "ENETUNREACH",
        [103] = "ECONNABORTED", [104] = "ECONNRESET", [105] = "ENOBUFS", [106] = "EISCONN",
        [107] = "ENOTCONN", [110] = "ETIMEDOUT", [111] = "ECONNREFUSED", [113] = "EHOSTUNREACH",
        [114] = "EALREADY", [115] = "EINPROGRESS",
    };

    public static string Name(int errno) => Names.TryGetValue(errno, out var name) ? name : $"errno {errno}";

    /// <summary>.NET reports socket failures as <see cref="SocketError"/>; map back to the kernel's errno name.</summary>
    public static string Name(SocketError error) => error switch
    {
        SocketError.ConnectionReset => "ECONNRESET",
        SocketError.ConnectionRefused => "ECONNREFUSED",
        SocketError.TimedOut => "ETIMEDOUT",
        SocketError.ConnectionAborted => "ECONNABORTED",
        SocketError.NotConnected => "ENOTCONN",
        SocketError.Shutdown => "EPIPE",
        SocketError.HostUnreachable => "EHOSTUNREACH",
        SocketError.NetworkUnreachable => "ENETUNREACH",
        SocketError.NetworkDown => "ENETDOWN",
        SocketError.AddressAlreadyInUse => "EADDRINUSE",
        SocketError.AddressNotAvailable => "EADDRNOTAVAIL",
        SocketError.TooManyOpenSockets => "EMFILE",
        SocketError.NoBufferSpaceAvailable => "ENOBUFS",
        SocketError.AccessDenied => "EACCES",
        SocketError.InvalidArgument => "EINVAL",
        SocketError.OperationAborted => "ECANCELED",
        SocketError.WouldBlock => "EAGAIN",
        SocketError.IsConnected => "EISCONN",
        SocketError.AlreadyInProgress => "EALREADY",
        _ => error.ToString(),
    };
}
