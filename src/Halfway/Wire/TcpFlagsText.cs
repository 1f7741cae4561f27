namespace Halfway.Wire;

internal static class TcpFlagsText
{
    /// <summary>Short form as tcpdump prints it: S, S., ., P., F., R, R.</summary>
    public static string Short(TcpFlags flags)
    {
        Span<char> text = stackalloc char[8];
        int n = 0;
        if ((flags & TcpFlags.Syn) != 0) text[n++] = 'S';
        if ((flags & TcpFlags.Fin) != 0) text[n++] = 'F';
        if ((flags & TcpFlags.Rst) != 0) text[n++] = 'R';
        if ((flags & TcpFlags.Psh) != 0) text[n++] = 'P';
        if ((flags & TcpFlags.Ack) != 0) text[n++] = '.';
        return n == 0 ? "none" : new string(text[..n]);
    }
}
