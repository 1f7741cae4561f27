namespace Halfway.Native;

/// <summary>Offsets into struct tcp_info (linux/tcp.h) for the fields the tool reads.</summary>
internal static class TcpInfoLayout
{
    public const int Level = 6;      // IPPROTO_TCP
    public const int OptionName = 11; // TCP_INFO
    public const int Size = 280;
    public const int State = 0;
    public const int Retransmits = 2;
    public const int Probes = 3;
    public const int Backoff = 4;
    public const int Rto = 8;
    public const int Unacked = 24;
    public const int Lost = 32;
    public const int Retrans = 36;
    public const int Rtt = 68;
    public const int RttVar = 72;
    public const int SendCwnd = 80;
    public const int TotalRetrans = 100;
}
