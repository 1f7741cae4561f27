using System.Net;
using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Tests.Observe;

/// <summary>The listener reading shared by the run's server sampler and watch.</summary>
public sealed class ListenerTableTests
{
    private static readonly IpEndpoint AnyOn8080 = IpEndpoint.From(new IPEndPoint(IPAddress.Any, 8080));
    private static readonly IpEndpoint ServerOn8080 = IpEndpoint.From(new IPEndPoint(IPAddress.Parse("198.18.0.2"), 8080));
    private static readonly IpEndpoint LoopbackOn9000 = IpEndpoint.From(new IPEndPoint(IPAddress.Loopback, 9000));

    private static SocketRecord Record(TcpState state, IpEndpoint local, uint queue = 0, uint limit = 0, int retransmits = 0, uint drops = 0, int client = 1) =>
        new(state, local, IpEndpoint.From(new IPEndPoint(IPAddress.Parse($"198.18.0.{client}"), 40000 + client)), queue, limit, retransmits, 0, 0, drops);

    [Fact]
    public void Listeners_on_one_address_are_summed_and_requests_go_to_their_owner()
    {
        SocketRecord[] records =
        [
            Record(TcpState.Listen, AnyOn8080, queue: 2, limit: 5, drops: 3),
            Record(TcpState.Listen, AnyOn8080, queue: 1, limit: 5, drops: 4),
            Record(TcpState.Listen, LoopbackOn9000, limit: 7),
            Record(TcpState.SynRecv, ServerOn8080, retransmits: 1, client: 10),
            Record(TcpState.SynRecv, ServerOn8080, client: 11),
            Record(TcpState.Established, ServerOn8080, client: 12),
            Record(TcpState.SynRecv, IpEndpoint.From(new IPEndPoint(IPAddress.Loopback, 9999)), client: 13),
        ];
        var groups = ListenerTable.Group(records, _ => true);
        ListenerTable.CountRequests(groups, records);

        Assert.Equal(2, groups.Count);
        Assert.Equal(new ListenerSample(AnyOn8080, 2, 3, 10, 2, 1, 7, 0), groups[AnyOn8080]);
        Assert.Equal(new ListenerSample(LoopbackOn9000, 1, 0, 7, 0, 0, 0, 0), groups[LoopbackOn9000]);
    }

    [Fact]
    public void Only_watched_listeners_are_read()
    {
        SocketRecord[] records = [Record(TcpState.Listen, AnyOn8080, limit: 5), Record(TcpState.Listen, LoopbackOn9000, limit: 7)];
        var groups = ListenerTable.Group(records, local => local.Port == 9000);
        Assert.Equal([LoopbackOn9000], groups.Keys);
    }
}
