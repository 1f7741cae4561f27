using Halfway.Analysis;
using Halfway.Tests.Capture;
using Halfway.Wire;

namespace Halfway.Tests.Analysis;

/// <summary>Writes the packets of one TCP connection with consistent sequence numbers; times are seconds from 0.</summary>
internal sealed class Conversation
{
    public const long Epoch = 1_700_000_000_000_000; // capture clock origin (µs)
    private readonly IpEndpoint _client, _server;
    private readonly uint _clientIsn, _serverIsn;
    private uint _clientNext, _serverNext;
    private int _lastDataLength;
    private uint _lastDataSeq;

    public Conversation(IpEndpoint client, IpEndpoint server, uint clientIsn = 1000, uint serverIsn = 900_000)
    {
        _client = client;
        _server = server;
        _clientIsn = clientIsn;
        _serverIsn = serverIsn;
        _clientNext = clientIsn + 1;
        _serverNext = serverIsn + 1;
    }

    public Conversation(string client = "10.0.0.2:40000", string server = "10.0.0.1:8080", uint clientIsn = 1000, uint serverIsn = 900_000)
        : this(Parse(client), Parse(server), clientIsn, serverIsn) { }

    private static IpEndpoint Parse(string text) => IpEndpoint.From(System.Net.IPEndPoint.Parse(text));

    public List<(long Microseconds, byte[] Ip)> Packets { get; } = [];

    private Conversation Add(double seconds, IpEndpoint from, IpEndpoint to, uint seq, uint ack, TcpFlags flags, int payload = 0)
    {
        Packets.Add((Epoch + (long)Math.Round(seconds * 1_000_000), CaptureBytes.TcpPacket(from, to, seq, ack, flags, payload)));
        return this;
    }

    public Conversation Syn(double t) => Add(t, _client, _server, _clientIsn, 0, TcpFlags.Syn);
    public Conversation SynAck(double t) => Add(t, _server, _client, _serverIsn, _clientIsn + 1, TcpFlags.Syn | TcpFlags.Ack);
    public Conversation Refuse(double t) => Add(t, _server, _client, 0, _clientIsn + 1, TcpFlags.Rst | TcpFlags.Ack);
    public Conversation Ack(double t) => Add(t, _client, _server, _clientNext, _serverNext, TcpFlags.Ack);

    public Conversation Data(double t, int length)
    {
        _lastDataSeq = _clientNext;
        _lastDataLength = length;
        Add(t, _client, _server, _clientNext, _serverNext, TcpFlags.Ack | TcpFlags.Psh, length);
        _clientNext += (uint)length;
        return this;
    }

    public Conversation Retransmit(double t) => Add(t, _client, _server, _lastDataSeq, _serverNext, TcpFlags.Ack | TcpFlags.Psh, _lastDataLength);
    public Conversation ServerAck(double t) => Add(t, _server, _client, _serverNext, _clientNext, TcpFlags.Ack);

    public Conversation ServerData(double t, int length)
    {
        Add(t, _server, _client, _serverNext, _clientNext, TcpFlags.Ack | TcpFlags.Psh, length);
        _serverNext += (uint)length;
        return this;
    }

    public Conversation ClientFin(double t)
    {
        Add(t, _client, _server, _clientNext, _serverNext, TcpFlags.Fin | TcpFlags.Ack);
        _clientNext++;
        return this;
    }

    public Conversation ServerFin(double t)
    {
        Add(t, _server, _client, _serverNext, _clientNext, TcpFlags.Fin | TcpFlags.Ack);
        _serverNext++;
        return this;
    }

    /// <summary>What a Linux listener sends when no state matches the client's segment: RST, seq = the segment's ACK = server ISN + 1.</summary>
    public Conversation BareRst(double t) => Add(t, _server, _client, _serverIsn + 1, 0, TcpFlags.Rst);
    public Conversation ClientRst(double t) => Add(t, _client, _server, _clientNext, 0, TcpFlags.Rst);

    /// <summary>Adds the last packet again <paramref name="microsecondsLater"/> later: the capture saw it twice.</summary>
    public Conversation Duplicate(long microsecondsLater = 3)
    {
        var (at, ip) = Packets[^1];
        Packets.Add((at + microsecondsLater, ip));
        return this;
    }

    public static IReadOnlyList<ConnectionReport> Analyze(IEnumerable<(long Microseconds, byte[] Ip)> packets, double? endSeconds = null)
    {
        var reports = new List<ConnectionReport>();
        var context = new AnalysisContext { EndMicroseconds = endSeconds is { } e ? Epoch + (long)(e * 1_000_000) : null };
        var engine = new AnalysisEngine(context, reports.Add);
        foreach (var (at, ip) in packets.OrderBy(p => p.Microseconds))
        {
            Assert.True(TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
        engine.Finish();
        return reports;
    }

    public IReadOnlyList<ConnectionReport> Analyze(double? endSeconds = null) => Analyze(Packets, endSeconds);
}
