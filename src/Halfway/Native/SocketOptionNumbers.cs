namespace Halfway.Native;

/// <summary>
/// Linux socket option levels and names (asm/socket.h, linux/tcp.h, linux/if_packet.h): for options .NET has no enum
/// member for, and for the client sockets the tool creates and sets up itself.
/// </summary>
internal static class SocketOptionNumbers
{
    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int SO_KEEPALIVE = 9;
    public const int SO_LINGER = 13;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int TCP_KEEPIDLE = 4;
    public const int TCP_KEEPINTVL = 5;
    public const int TCP_KEEPCNT = 6;
    public const int TCP_DEFER_ACCEPT = 9;
    public const int TCP_USER_TIMEOUT = 18;
    public const int SOL_PACKET = 263;
    public const int PACKET_IGNORE_OUTGOING = 23;

    /// <summary>htons(ETH_P_ALL): .NET passes an AF_PACKET socket's protocol through unconverted.</summary>
    public const int EthPAllNetworkOrder = 0x0300;
}
