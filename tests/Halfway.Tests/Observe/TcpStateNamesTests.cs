using Halfway.Observe;
using Halfway.Traffic;

namespace Halfway.Tests.Observe;

/// <summary>One state table for the sampler, TCP_INFO and watch: every state, spelled as the outputs print it.</summary>
public sealed class TcpStateNamesTests
{
    private static readonly Dictionary<TcpState, string> Expected = new()
    {
        [TcpState.Established] = "ESTABLISHED",
        [TcpState.SynSent] = "SYN-SENT",
        [TcpState.SynRecv] = "SYN-RECV",
        [TcpState.FinWait1] = "FIN-WAIT-1",
        [TcpState.FinWait2] = "FIN-WAIT-2",
        [TcpState.TimeWait] = "TIME-WAIT",
        [TcpState.Close] = "CLOSE",
        [TcpState.CloseWait] = "CLOSE-WAIT",
        [TcpState.LastAck] = "LAST-ACK",
        [TcpState.Listen] = "LISTEN",
        [TcpState.Closing] = "CLOSING",
        [TcpState.NewSynRecv] = "NEW-SYN-RECV",
    };

    [Fact]
    public void Every_state_has_its_name()
    {
        Assert.Equal(Enum.GetValues<TcpState>().Order(), Expected.Keys.Order());
        foreach (var state in Enum.GetValues<TcpState>())
            Assert.Equal(Expected[state], TcpStateNames.Of(state));
    }

    [Fact]
    public void Numbers_outside_the_table_are_printed_not_guessed()
    {
        Assert.Equal("UNKNOWN", TcpStateNames.Of(0));
        Assert.Equal("state 13", TcpStateNames.Of(13));
        Assert.Equal("state 255", TcpStateNames.Of(255));
    }

    [Fact]
    public void Tcp_info_reads_its_state_through_the_table()
    {
        foreach (var state in Enum.GetValues<TcpState>())
            Assert.Equal(TcpStateNames.Of(state), TcpInfo.Parse([(byte)state]).State);
        Assert.Equal("UNKNOWN", TcpInfo.Parse([]).State);
    }
}
