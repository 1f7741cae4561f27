using System.Net;
using System.Net.Sockets;
using Halfway.Lab;
using Halfway.Observe;

namespace Halfway.Tests.Watch;

[Collection(LabCollection.Name)]
public sealed class WatchReadOnlyTests
{
    [LabFact]
    public void Watch_changes_no_sysctl_no_socket_and_no_counter_of_the_namespace_it_watches()
    {
        using var host = LabHost.Create("watch-readonly");
        var sockets = host.Run(() =>
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 8080));
            listener.Listen(8);
            var list = new List<Socket> { listener };
            for (int i = 0; i < 3; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client.Connect(new IPEndPoint(IPAddress.Loopback, 8080));
                list.Add(client);
            }
            list.Add(listener.Accept());
            return list;
        });
        try
        {
            var before = Snapshot(host);
            Assert.True(before.Sysctls.Count > 100, $"only {before.Sysctls.Count} sysctls read: the snapshot proves nothing");
            Assert.Equal(7, before.Sockets.Count); // the listener, 3 clients, their 3 server ends (1 accepted)

            var once = WatchCli.Run(["--netns", host.NamespacePath, "--once", "--json", "--interval", "0.2"], TimeSpan.FromSeconds(30));
            Assert.True(once.ExitCode == 0, once.Errors);
            Assert.Contains("\"address\":\"127.0.0.1:8080\"", once.Output);
            var plain = WatchCli.Run(["--netns", host.NamespacePath, "--once", "--interval", "0.2", "8080", "[::1]:9"], TimeSpan.FromSeconds(30));
            Assert.True(plain.ExitCode == 0, plain.Errors);
            Assert.Contains("no listener on [::1]:9", plain.Output);

            var after = Snapshot(host);
            Assert.Equal(before.Sysctls, after.Sysctls);
            Assert.Equal(before.Sockets, after.Sockets);
            Assert.Equal(before.Counters, after.Counters);
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }

    private sealed record NamespaceSnapshot(SortedDictionary<string, string> Sysctls, List<string> Sockets, SortedDictionary<string, long> Counters);

    /// <summary>Every readable file under /proc/sys/net, every TCP socket (all states, queues included) and every counter.</summary>
    private static NamespaceSnapshot Snapshot(LabHost host) => host.Run(() =>
    {
        var sysctls = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles("/proc/sys/net", "*", SearchOption.AllDirectories))
        {
            try
            {
                sysctls[path] = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Write-only entries (e.g. route/flush) have nothing to compare.
            }
        }
        using var table = new SocketTable();
        var sockets = table.Read(Enum.GetValues<TcpState>()).Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList();
        var counters = new SortedDictionary<string, long>(KernelCounters.ReadCurrentNamespace(), StringComparer.Ordinal);
        return new NamespaceSnapshot(sysctls, sockets, counters);
    });
}
