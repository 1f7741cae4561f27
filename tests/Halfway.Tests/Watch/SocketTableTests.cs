using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Halfway.Lab;
using Halfway.Observe;

namespace Halfway.Tests.Watch;

[Collection(LabCollection.Name)]
public sealed partial class SocketTableTests
{
    [LabFact]
    public void Listeners_queues_and_drops_agree_with_ss_and_the_port_filter_runs_in_the_kernel()
    {
        using var host = LabHost.Create("socket-table");
        var sockets = new List<Socket>();
        try
        {
            host.Run(() =>
            {
                sockets.Add(Listen(new IPEndPoint(IPAddress.Loopback, 7001), 3));
                sockets.Add(Listen(new IPEndPoint(IPAddress.IPv6Loopback, 7002), 7));
                sockets.Add(Listen(new IPEndPoint(IPAddress.Any, 7003), 11));
                // Two connections that nobody accepts: the accept queue of 7001 holds 2.
                for (int i = 0; i < 2; i++)
                {
                    var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    client.Connect(new IPEndPoint(IPAddress.Loopback, 7001));
                    sockets.Add(client);
                }
            });
            using var table = host.Run(() => new SocketTable());

            var listeners = table.Read([TcpState.Listen]);
            var ss = Ss(host, "-tlnmH");
            Assert.Equal(3, listeners.Count);
            Assert.Equal(ss.Count, listeners.Count);
            foreach (var listener in listeners)
            {
                var line = Assert.Single(ss, l => l.Local == listener.Local.ToString());
                Assert.Equal(line.RecvQ, listener.ReceiveQueue);
                Assert.Equal(line.SendQueue, listener.SendQueue);
                Assert.Equal(line.Drops, listener.Drops);
                Assert.NotEqual(0UL, listener.Inode);
            }
            var first = Assert.Single(listeners, l => l.Local.Port == 7001);
            Assert.Equal(2u, first.ReceiveQueue);
            Assert.Equal(3u, first.SendQueue);

            // Every state: the same count as ss -tan (both sides of the 2 connections, plus the listeners).
            var everything = table.Read(Enum.GetValues<TcpState>());
            Assert.Equal(Ss(host, "-tanH").Count, everything.Count);
            Assert.Equal(7, everything.Count);

            // Filtered in the kernel: only sockets whose local port is 7001 or 7003 (the clients' ports are ephemeral).
            var filtered = table.Read([TcpState.Listen, TcpState.Established], [7001, 7003]);
            Assert.Equal(4, filtered.Count);
            Assert.All(filtered, r => Assert.Contains(r.Local.Port, new ushort[] { 7001, 7003 }));
            Assert.Equal(2, filtered.Count(r => r.State == TcpState.Established));

            // Many ports at once: the filter program grows past what a one-byte jump could reach.
            var many = Enumerable.Range(10000, 60).Select(p => (ushort)p).Append((ushort)7002).ToArray();
            var v6 = Assert.Single(table.Read([TcpState.Listen], many));
            Assert.Equal(7002, v6.Local.Port);
            Assert.True(v6.Local.IsV6);
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
    }

    private static Socket Listen(IPEndPoint endpoint, int backlog)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(endpoint);
        socket.Listen(backlog);
        return socket;
    }

    internal sealed record SsLine(string State, uint RecvQ, uint SendQueue, string Local, uint Drops);

    [GeneratedRegex(@",d(\d+)\)")]
    private static partial Regex DropsField();

    /// <summary>Runs ss inside the host's namespace and parses its lines (state, Recv-Q, Send-Q, local, skmem d).</summary>
    internal static List<SsLine> Ss(LabHost host, string arguments)
    {
        var start = new ProcessStartInfo("ss", arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = host.StartProcess(start);
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "ss did not finish within 10 s");
        var lines = new List<SsLine>();
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < rows.Length; i++)
        {
            var fields = rows[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4 || !uint.TryParse(fields[1], out uint recvQ))
                continue;
            uint drops = 0;
            // With -m the skmem line follows the socket's line.
            if (i + 1 < rows.Length && rows[i + 1].TrimStart().StartsWith("skmem:", StringComparison.Ordinal))
                drops = uint.Parse(DropsField().Match(rows[++i]).Groups[1].Value);
            lines.Add(new SsLine(fields[0], recvQ, uint.Parse(fields[2]), fields[3], drops));
        }
        return lines;
    }
}
