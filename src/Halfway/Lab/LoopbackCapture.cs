using System.Net.Sockets;
using Halfway.Native;
using Halfway.Wire;

namespace Halfway.Lab;

/// <summary>
/// The capture point of a single-host lab: an AF_PACKET socket in the host's namespace (whose only
/// interface is lo) that reports every frame once, as the link does for a pair lab. Loopback frames
/// carry a 14-byte all-zero Ethernet header, cut here; timestamps are taken on receipt.
/// </summary>
internal sealed class LoopbackCapture : IDisposable
{
    private const int EthernetHeader = 14;
    private readonly Socket _socket;
    private readonly Task _loop;
    private readonly LabClock _clock;
    private readonly int _serverPort;
    private readonly int _snapLength;
    private readonly Action<LinkPacket> _observer;

    private LoopbackCapture(Socket socket, LabClock clock, int serverPort, int snapLength, Action<LinkPacket> observer)
    {
        _socket = socket;
        _clock = clock;
        _serverPort = serverPort;
        _snapLength = snapLength;
        _observer = observer;
        _loop = Task.Run(LoopAsync);
    }

    public long PacketsSeen { get; private set; }

    /// <summary>Opens the capture on the host's thread; packets to or from <paramref name="serverPort"/> get a direction.</summary>
    public static LoopbackCapture Start(LabHost host, LabClock clock, int serverPort, Action<LinkPacket> observer, int snapLength = 256)
    {
        var socket = host.Run(() =>
        {
            var s = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)SocketOptionNumbers.EthPAllNetworkOrder);
            // Each frame on lo is seen leaving and arriving: keep the arrival only.
            s.SetRawSocketOption(SocketOptionNumbers.SOL_PACKET, SocketOptionNumbers.PACKET_IGNORE_OUTGOING, BitConverter.GetBytes(1));
            return s;
        });
        return new LoopbackCapture(socket, clock, serverPort, snapLength, observer);
    }

    private async Task LoopAsync()
    {
        var buffer = new byte[65536 + EthernetHeader];
        try
        {
            while (true)
            {
                int length = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                long now = _clock.NowMicroseconds;
                if (length <= EthernetHeader)
                    continue;
                var packet = buffer.AsSpan(EthernetHeader, length - EthernetHeader);
                var direction = TcpSegment.TryParseIp(packet, out var segment) && segment.Source.Port == _serverPort
                    ? LinkDirection.ServerToClient
                    : LinkDirection.ClientToServer;
                PacketsSeen++;
                _observer(new LinkPacket(now, now, direction, LinkAction.Passed, null, packet.Length, packet[..Math.Min(packet.Length, _snapLength)].ToArray()));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Disposed: the capture ends.
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
