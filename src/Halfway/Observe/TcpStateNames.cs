namespace Halfway.Observe;

/// <summary>
/// The one table of TCP state names, spelled as ss(8) and every output of ours print them ("SYN-RECV",
/// "FIN-WAIT-1"): the server sampler's observations, TCP_INFO's state and watch's columns all use it,
/// so a state cannot be spelled two ways in one report.
/// </summary>
internal static class TcpStateNames
{
    /// <summary>Indexed by the kernel's state number (include/net/tcp_states.h); 0 is no state.</summary>
    private static readonly string[] Names =
    [
        "UNKNOWN", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
        "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING", "NEW-SYN-RECV",
    ];

    public static string Of(TcpState state) => Of((int)state);

    /// <summary>A number the table does not know is printed as such ("state 13"), not guessed.</summary>
    public static string Of(int kernelState) =>
        kernelState >= 0 && kernelState < Names.Length ? Names[kernelState] : $"state {kernelState}";
}
