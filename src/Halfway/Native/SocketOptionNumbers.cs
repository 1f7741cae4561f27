namespace Halfway.Native;

/// <summary>Linux socket option levels and names that .NET has no enum member for (linux/tcp.h, linux/if_packet.h).</summary>
internal static class SocketOptionNumbers
{
    public const int IPPROTO_TCP = 6;
    public const int TCP_DEFER_ACCEPT = 9;
    public const int TCP_USER_TIMEOUT = 18;
    public const int SOL_PACKET = 263;
    public const int PACKET_IGNORE_OUTGOING = 23;

    /// <summary>htons(ETH_P_ALL): .NET passes an AF_PACKET socket's protocol through unconverted.</summary>
    public const int EthPAllNetworkOrder = 0x0300;
}
