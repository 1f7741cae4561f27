using System.Net;
using System.Net.Sockets;
using Halfway.Lab;

namespace Halfway.Tests.Watch;

/// <summary>ADDR:PORT watches the listener the kernel would give those connections to: itself, else the wildcard.</summary>
[Collection(LabCollection.Name)]
public sealed class WatchRoutingLabTests
{
    [LabFact]
    public void Loopback_targets_are_watched_on_the_wildcard_listeners_and_the_output_says_so()
    {
        using var host = LabHost.Create("watch-route");
        var sockets = new List<Socket>();
        try
        {
            sockets.Add(Bind(host, IPAddress.Any, 2024, v6Only: false));
            sockets.Add(Bind(host, IPAddress.IPv6Any, 2026, v6Only: true));
            // Linux lets a specific and a wildcard address share a port only when both are bound (with
            // SO_REUSEADDR) before either listens.
            sockets.Add(Bind(host, IPAddress.Loopback, 2025, v6Only: false));
            sockets.Add(Bind(host, IPAddress.Any, 2025, v6Only: false));
            foreach (var socket in sockets)
                socket.Listen(16);

            var (exitCode, output, errors) = WatchCli.Run(["--once", "--interval", "0.2", "127.0.0.1:2024", "[::1]:2026", "127.0.0.1:2025"], TimeSpan.FromSeconds(30), host);

            Assert.True(exitCode == 0, $"watch exited with {exitCode}: {errors}");
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(lines, l => l.Contains(" listener 0.0.0.0:2024 accept_queue=0/", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains(" listener [::]:2026 accept_queue=0/", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.EndsWith(" target 127.0.0.1:2024 is taken by listener 0.0.0.0:2024", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.EndsWith(" target [::1]:2026 is taken by listener [::]:2026", StringComparison.Ordinal));
            // An exact listener takes its address's connections: the wildcard on 2025 is not watched.
            Assert.Contains(lines, l => l.Contains(" listener 127.0.0.1:2025 accept_queue=0/", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("0.0.0.0:2025", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("no listener", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }

    private static Socket Bind(LabHost host, IPAddress address, int port, bool v6Only) => host.Run(() =>
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            socket.DualMode = !v6Only;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(address, port));
        return socket;
    });
}
