using Halfway.Wire;

namespace Halfway.Tests.Wire;

/// <summary>
/// The 4-tuple's hash: the same both ways (a flow is found from either direction's packets), different when a port or
/// an address differs, and unchanged from the one the flow table had (the split shares flows out by its top byte, the
/// table takes slots from its low bits: a different hash would change neither output, but would change the speed).
/// </summary>
public sealed class FlowHashTests
{
    private static IpEndpoint V4(uint address, ushort port) => new(0, 0xffffUL << 32 | address, port, false);

    private static readonly IpEndpoint Client = V4(0x0a000001, 40000);
    private static readonly IpEndpoint Server = V4(0x0a0000fe, 8080);

    [Fact]
    public void The_same_4_tuple_hashes_the_same_in_both_directions()
    {
        Assert.Equal(FlowHash.Of(Client, Server), FlowHash.Of(Client, Server));
        Assert.Equal(FlowHash.Of(Client, Server), FlowHash.Of(Server, Client));
    }

    [Fact]
    public void Another_port_or_address_hashes_differently()
    {
        uint hash = FlowHash.Of(Client, Server);
        Assert.NotEqual(hash, FlowHash.Of(Client with { Port = 40001 }, Server));
        Assert.NotEqual(hash, FlowHash.Of(Client, Server with { Port = 8081 }));
        Assert.NotEqual(hash, FlowHash.Of(V4(0x0a000002, 40000), Server));
        // The ports swapped between the ends: another connection.
        Assert.NotEqual(hash, FlowHash.Of(Client with { Port = 8080 }, Server with { Port = 40000 }));
    }

    [Fact]
    public void The_hash_is_the_one_the_flow_table_had()
    {
        Assert.Equal(0xebea2a75u, FlowHash.Of(Client, Server));
        var a = new IpEndpoint(0x2001_0db8_0000_0000UL, 1, 40000, true);
        var b = new IpEndpoint(0x2001_0db8_0000_0000UL, 2, 443, true);
        Assert.Equal(0x89619aa2u, FlowHash.Of(a, b));
    }

    [Fact]
    public void Many_connections_to_one_server_spread_over_the_top_byte_and_the_low_bits()
    {
        var top = new HashSet<uint>();
        var low = new HashSet<uint>();
        for (ushort port = 30000; port < 34000; port++)
        {
            uint hash = FlowHash.Of(Client with { Port = port }, Server);
            top.Add(hash >> 24);
            low.Add(hash & 1023);
        }
        Assert.True(top.Count > 240, $"{top.Count} top bytes");
        Assert.True(low.Count > 900, $"{low.Count} low values");
    }
}
