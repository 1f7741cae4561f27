using System.Net;
using Halfway.Native;
using Halfway.Wire;

namespace Halfway.Lab;

/// <summary>
/// A userspace link between two hosts: one TUN device in each, and a forwarder thread that copies
/// IP packets between them, applying per-direction delay, jitter, seeded loss and drop rules. It sees
/// every packet, so it is also the lab's capture point: each packet is offered to the observer with
/// what the link did to it.
/// </summary>
internal sealed unsafe class TunLink : IDisposable
{
    public const string InterfaceName = "hw0";
    private const int MaxPacket = 65536;
    private const int ReadBurst = 128;
    /// <summary>
    /// Packets the kernel may queue for the forwarder in each direction. A TUN device holds 500 by default and drops
    /// the rest without telling anyone: a burst of thousands of SYNs, or a forwarder descheduled for a few
    /// milliseconds on a busy machine, then lost packets that no drop rule asked for and that no capture shows.
    /// </summary>
    public const uint TransmitQueueLength = 16384;

    private readonly LinkOptions _options;
    private readonly LabClock _clock;
    private readonly Action<LinkPacket>? _observer;
    private readonly int[] _fds = new int[2];
    private readonly Direction[] _directions;
    private readonly RuleState[] _rules;
    private readonly Dictionary<(IpEndpoint, IpEndpoint), uint> _clientSyns = new();
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _packetsSeen;
    private long _packetsDropped;
    private long _packetsInFlight;

    private TunLink(int clientFd, int serverFd, LinkOptions options, LabClock clock, Action<LinkPacket>? observer)
    {
        _fds[0] = clientFd;
        _fds[1] = serverFd;
        _options = options;
        _clock = clock;
        _observer = observer;
        _directions = [new Direction(options.ClientToServer), new Direction(options.ServerToClient)];
        _rules = options.DropRules.Select(r => new RuleState(r)).ToArray();
        _thread = new Thread(Forward) { IsBackground = true, Name = "halfway-link", Priority = ThreadPriority.AboveNormal };
    }

    public long PacketsSeen => Interlocked.Read(ref _packetsSeen);

    /// <summary>Packets dropped by a rule, by random loss, or by a failed write to the receiving TUN device.</summary>
    public long PacketsDropped => Interlocked.Read(ref _packetsDropped);

    /// <summary>Packets still waiting out their delay when the link was disposed: never delivered, not dropped.</summary>
    public long PacketsInFlight => Interlocked.Read(ref _packetsInFlight);

    public LinkOptions Options => _options;

    /// <summary>Creates hw0 in both hosts with the given addresses (/24 each) and starts forwarding.</summary>
    /// <summary>
    /// Packets the kernel dropped because the link's queue in <paramref name="host"/> was full: the forwarder never saw
    /// them, so no capture shows them and no drop rule caused them.
    /// </summary>
    public static long QueueDrops(LabHost host) => QueueDrops(host.ReadProcNet("dev"));

    /// <summary>The transmit drops of the link's interface in a /proc/net/dev table (0 when it is not listed).</summary>
    public static long QueueDrops(string procNetDev)
    {
        foreach (var line in procNetDev.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() != InterfaceName)
                continue;
            // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs drop ...
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 11 && long.TryParse(fields[11], out long drops) ? drops : 0;
        }
        return 0;
    }

    public static TunLink Connect(LabHost client, IPAddress clientAddress, LabHost server, IPAddress serverAddress,
        LinkOptions options, LabClock clock, Action<LinkPacket>? observer = null)
    {
        int clientFd = client.Run(() => Tun.Open(InterfaceName));
        int serverFd = -1;
        try
        {
            serverFd = server.Run(() => Tun.Open(InterfaceName));
            // IPv6 on the link would add router solicitations to the capture and to the loss draws.
            foreach (var host in new[] { client, server })
                host.Run(() => File.WriteAllText($"/proc/sys/net/ipv6/conf/{InterfaceName}/disable_ipv6", "1"));
            client.AddAddress(InterfaceName, clientAddress, 24);
            client.SetLinkUp(InterfaceName, TransmitQueueLength);
            server.AddAddress(InterfaceName, serverAddress, 24);
            server.SetLinkUp(InterfaceName, TransmitQueueLength);
        }
        catch
        {
            Libc.close(clientFd);
            if (serverFd >= 0) Libc.close(serverFd);
            throw;
        }
        var link = new TunLink(clientFd, serverFd, options, clock, observer);
        link._thread.Start();
        return link;
    }

    private void Forward()
    {
        var buffer = new byte[MaxPacket];
        var pollFds = stackalloc Libc.PollFd[2];
        while (!_stopping)
        {
            long now = _clock.NowMicroseconds;
            long timeout = 20_000; // wake now and then to notice Dispose
            foreach (var direction in _directions)
            {
                if (direction.Queue.Count > 0)
                    timeout = Math.Min(timeout, Math.Max(0, direction.Queue.Peek().DueAt - now));
            }
            pollFds[0] = new Libc.PollFd { Fd = _fds[0], Events = Libc.POLLIN };
            pollFds[1] = new Libc.PollFd { Fd = _fds[1], Events = Libc.POLLIN };
            var wait = new Libc.TimeSpec { Seconds = timeout / 1_000_000, Nanoseconds = timeout % 1_000_000 * 1000 };
            int ready = Libc.ppoll(pollFds, 2, &wait, null);
            if (ready < 0 && Libc.LastError != Libc.EINTR)
                break;
            for (int side = 0; side < 2; side++)
            {
                if (ready > 0 && (pollFds[side].Revents & Libc.POLLIN) != 0)
                    ReadBurstFrom(side, buffer);
            }
            Deliver();
        }
    }

    private void ReadBurstFrom(int side, byte[] buffer)
    {
        for (int i = 0; i < ReadBurst; i++)
        {
            nint length;
            fixed (byte* p = buffer)
                length = Libc.read(_fds[side], p, buffer.Length);
            if (length <= 0)
                return;
            long now = _clock.NowMicroseconds;
            Interlocked.Increment(ref _packetsSeen);
            var packet = buffer.AsSpan(0, (int)length);
            var direction = (LinkDirection)side;
            string? dropReason = Decide(direction, packet, now);
            if (dropReason is not null)
            {
                Interlocked.Increment(ref _packetsDropped);
                _observer?.Invoke(new LinkPacket(now, -1, direction, LinkAction.Dropped, dropReason, (int)length, Snap(packet)));
                continue;
            }
            var state = _directions[side];
            long due = now + state.DelayFor();
            if (!state.Impairment.Reorder)
                due = Math.Max(due, state.LastDue);
            state.LastDue = due;
            state.Queue.Enqueue(new Pending(packet.ToArray(), now, due));
        }
    }

    private void Deliver()
    {
        for (int side = 0; side < 2; side++)
        {
            var queue = _directions[side].Queue;
            while (queue.Count > 0 && queue.Peek().DueAt <= _clock.NowMicroseconds)
            {
                var pending = queue.Dequeue();
                int target = _fds[1 - side];
                nint written;
                fixed (byte* p = pending.Bytes)
                    written = Libc.write(target, p, pending.Bytes.Length);
                long now = _clock.NowMicroseconds;
                if (written < 0)
                {
                    Interlocked.Increment(ref _packetsDropped);
                    _observer?.Invoke(new LinkPacket(pending.SeenAt, -1, (LinkDirection)side, LinkAction.Dropped,
                        $"write to the TUN device failed: {Errno.Name(Libc.LastError)}", pending.Bytes.Length, Snap(pending.Bytes)));
                    continue;
                }
                _observer?.Invoke(new LinkPacket(pending.SeenAt, now, (LinkDirection)side, LinkAction.Passed, null,
                    pending.Bytes.Length, Snap(pending.Bytes)));
            }
        }
    }

    private byte[] Snap(ReadOnlySpan<byte> packet) => packet[..Math.Min(packet.Length, _options.SnapLength)].ToArray();

    /// <summary>Returns why the packet is dropped, or null to pass it.</summary>
    private string? Decide(LinkDirection direction, ReadOnlySpan<byte> packet, long now)
    {
        bool isTcp = TcpSegment.TryParseIp(packet, out var segment);
        bool handshakeAck = false;
        if (isTcp && direction == LinkDirection.ClientToServer)
        {
            var key = (segment.Source, segment.Destination);
            if (segment.Flags == TcpFlags.Syn)
                _clientSyns[key] = segment.Sequence;
            else if (_clientSyns.TryGetValue(key, out uint isn) && FinalHandshakeAck.Is(segment, isn, serverIsn: null))
            {
                handshakeAck = true;
                _clientSyns.Remove(key);
            }
        }
        foreach (var rule in _rules)
        {
            if (rule.Matches(direction, isTcp, segment, handshakeAck, now))
                return $"rule '{rule.Rule.Name}'";
        }
        var impairment = _directions[(int)direction];
        if (impairment.Impairment.Loss > 0 && impairment.Random.NextDouble() < impairment.Impairment.Loss)
            return "random loss";
        return null;
    }

    public void Dispose()
    {
        if (_stopping)
            return;
        _stopping = true;
        if (_thread.IsAlive)
            _thread.Join(TimeSpan.FromSeconds(5));
        // Packets still delayed when the lab stops were seen but never delivered: report them, so the capture holds every
        // packet seen, yet not as drops: the link did not drop them, the run ended under them.
        for (int side = 0; side < 2; side++)
        {
            while (_directions[side].Queue.TryDequeue(out var pending))
            {
                Interlocked.Increment(ref _packetsInFlight);
                _observer?.Invoke(new LinkPacket(pending.SeenAt, -1, (LinkDirection)side, LinkAction.InFlight, null,
                    pending.Bytes.Length, Snap(pending.Bytes)));
            }
        }
        Libc.close(_fds[0]);
        Libc.close(_fds[1]);
    }

    private readonly record struct Pending(byte[] Bytes, long SeenAt, long DueAt);

    private sealed class Direction(LinkImpairment impairment)
    {
        public LinkImpairment Impairment { get; } = impairment;
        public Queue<Pending> Queue { get; } = new();
        public Random Random { get; } = new(impairment.Seed);
        private readonly Random _jitter = new(impairment.Seed ^ 0x5eed);
        public long LastDue { get; set; }

        public long DelayFor()
        {
            long delay = (long)Impairment.Delay.TotalMicroseconds;
            if (Impairment.Jitter > TimeSpan.Zero)
                delay += (long)((_jitter.NextDouble() * 2 - 1) * Impairment.Jitter.TotalMicroseconds);
            return Math.Max(0, delay);
        }
    }

    private sealed class RuleState(DropRule rule)
    {
        public DropRule Rule { get; } = rule;
        private int _dropped;
        private readonly HashSet<(IpEndpoint, IpEndpoint)> _connections = new();

        public bool Matches(LinkDirection direction, bool isTcp, in TcpSegment segment, bool handshakeAck, long now)
        {
            if (Rule.Count is { } count && _dropped >= count) return false;
            if (Rule.Direction is { } d && d != direction) return false;
            if (Rule.From is { } from && now < (long)from.TotalMicroseconds) return false;
            if (Rule.Until is { } until && now >= (long)until.TotalMicroseconds) return false;
            if (Rule.HasTcpCriteria)
            {
                if (!isTcp) return false;
                if (Rule.Flags is { } flags && segment.Flags != flags) return false;
                if (Rule.SourcePort is { } sp && segment.Source.Port != sp) return false;
                if (Rule.DestinationPort is { } dp && segment.Destination.Port != dp) return false;
                if (Rule.PayloadMin is { } min && segment.PayloadLength < min) return false;
                if (Rule.PayloadMax is { } max && segment.PayloadLength > max) return false;
                if (Rule.HandshakeAck && !handshakeAck) return false;
                if (Rule.FirstConnections is { } first)
                {
                    var key = direction == LinkDirection.ClientToServer ? (segment.Source, segment.Destination) : (segment.Destination, segment.Source);
                    if (!_connections.Contains(key))
                    {
                        if (_connections.Count >= first) return false;
                        _connections.Add(key);
                    }
                }
            }
            _dropped++;
            return true;
        }
    }
}
