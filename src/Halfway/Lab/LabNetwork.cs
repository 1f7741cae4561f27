using System.Net;

namespace Halfway.Lab;

/// <summary>
/// A private lab: one host (single) or a client and a server host joined by a link (pair). Its
/// addresses come from 198.18.0.0/15, the range reserved for benchmarking (RFC 2544), and exist only
/// inside its namespaces. Disposing it ends every host.
/// </summary>
internal sealed class LabNetwork : IDisposable
{
    public static readonly IPAddress PairClientAddress = IPAddress.Parse("198.18.0.1");
    public static readonly IPAddress PairServerAddress = IPAddress.Parse("198.18.0.2");

    private LabNetwork(string name, Topology topology, LabClock clock, LabHost client, LabHost server, TunLink? link, IPAddress serverAddress)
    {
        Name = name;
        Topology = topology;
        Clock = clock;
        Client = client;
        Server = server;
        Link = link;
        ServerAddress = serverAddress;
    }

    public string Name { get; }
    public Topology Topology { get; }
    public LabClock Clock { get; }
    public LabHost Client { get; }
    public LabHost Server { get; }
    public TunLink? Link { get; }
    public IPAddress ServerAddress { get; }

    public IEnumerable<LabHost> Hosts => ReferenceEquals(Client, Server) ? [Server] : [Client, Server];

    public static LabNetwork CreateSingle(string name, LabClock? clock = null)
    {
        var host = LabHost.Create($"{name}/host");
        return new LabNetwork(name, Topology.Single, clock ?? new LabClock(), host, host, null, IPAddress.Loopback);
    }

    /// <summary>
    /// Creates both hosts and the link. <paramref name="configureHosts"/> runs before the link starts,
    /// so kernel settings are in force before the first packet.
    /// </summary>
    public static LabNetwork CreatePair(string name, LinkOptions link, Action<LinkPacket>? observer = null,
        Action<LabHost, LabHost>? configureHosts = null, LabClock? clock = null)
    {
        clock ??= new LabClock();
        LabHost? client = null, server = null;
        try
        {
            client = LabHost.Create($"{name}/client");
            server = LabHost.Create($"{name}/server");
            configureHosts?.Invoke(client, server);
            var tun = TunLink.Connect(client, PairClientAddress, server, PairServerAddress, link, clock, observer);
            return new LabNetwork(name, Topology.Pair, clock, client, server, tun, PairServerAddress);
        }
        catch
        {
            client?.Dispose();
            server?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Link?.Dispose();
        Client.Dispose();
        if (!ReferenceEquals(Client, Server))
            Server.Dispose();
    }
}
