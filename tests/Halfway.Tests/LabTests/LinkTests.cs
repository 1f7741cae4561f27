using System.Net;
using System.Net.Sockets;
using Halfway.Lab;

namespace Halfway.Tests.LabTests;

[Collection(LabCollection.Name)]
public sealed class LinkTests
{
    [LabFact]
    public async Task Tcp_across_the_link_sees_a_round_trip_of_twice_the_one_way_delay()
    {
        var delay = TimeSpan.FromMilliseconds(20);
        using var lab = LabNetwork.CreatePair("rtt", new LinkOptions
        {
            ClientToServer = new LinkImpairment { Delay = delay },
            ServerToClient = new LinkImpairment { Delay = delay },
        });
        using var listener = lab.Server.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Any, 7000));
            s.Listen(16);
            return s;
        });
        using var client = lab.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var acceptTask = listener.AcceptAsync(cts.Token).AsTask();
        await client.ConnectAsync(new IPEndPoint(LabNetwork.PairServerAddress, 7000), cts.Token);
        using var accepted = await acceptTask;
        var buffer = new byte[4];
        for (int i = 0; i < 5; i++)
        {
            await client.SendAsync("ping"u8.ToArray(), SocketFlags.None, cts.Token);
            await accepted.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            await accepted.SendAsync("pong"u8.ToArray(), SocketFlags.None, cts.Token);
            await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        }
        var info = Halfway.Traffic.TcpInfo.Read(client);
        double rttMs = info.RttMicroseconds / 1000.0;
        // Tolerance: the forwarder wakes within a millisecond or two on a shared 2-core machine.
        Assert.InRange(rttMs, 2 * delay.TotalMilliseconds * 0.95, 2 * delay.TotalMilliseconds + 8);
    }
}
