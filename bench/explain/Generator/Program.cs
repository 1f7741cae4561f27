using System.Buffers.Binary;
using Halfway.Wire;

// Synthesises a capture for the explain benchmark, as tcpdump -s 128 would write it on the server host (Ethernet,
// microsecond pcap): a stream of ordinary HTTP-like connections with a share of half-established ones, look-alikes and
// noise. "--mode short": 9-packet connections, 1 in 20 half-established. "--mode flows" instead opens N connections and never closes them: N concurrent flows at the end of the file.
//   explain-capture-generator --out FILE [--packets 2200000] [--mode mix|flows|short] [--flows 1000000] [--seed 1]

var options = ParseArguments(args);
string output = options.GetValueOrDefault("out") ?? throw new ArgumentException("--out FILE is required");
string mode = options.GetValueOrDefault("mode") ?? "mix";
long targetPackets = long.Parse(options.GetValueOrDefault("packets") ?? "2200000");
int flows = int.Parse(options.GetValueOrDefault("flows") ?? "1000000");
var random = new Random(int.Parse(options.GetValueOrDefault("seed") ?? "1"));

var packets = new List<Packet>(mode == "flows" ? flows * 3 : (int)(targetPackets + 64));
var server = Endpoint(0x0a000001, 8080);
var closedPort = Endpoint(0x0a000001, 8081);
var counts = new Dictionary<string, int>();
long start = 1_763_900_000_000_000;

if (mode == "flows")
{
    // N clients connect within 20 s and stay connected: the engine must hold every flow until the end.
    for (int i = 0; i < flows; i++)
    {
        var client = ClientOf(i);
        long t = start + (long)i * 20_000_000 / flows;
        uint cIsn = (uint)random.Next(), sIsn = (uint)random.Next();
        packets.Add(new(t, client, server, cIsn, 0, TcpFlags.Syn, 0));
        packets.Add(new(t + 40, server, client, sIsn, cIsn + 1, TcpFlags.Syn | TcpFlags.Ack, 0));
        packets.Add(new(t + 1040, client, server, cIsn + 1, sIsn + 1, TcpFlags.Ack, 0));
    }
    counts["open flows"] = flows;
}
else if (mode == "short")
{
    // Short connections of 9 packets each (handshake, one request and response, close), 1 in 20 half-established: the
    // final ACK was not taken, the server re-sent its SYN-ACK after it, and the client's request completed it.
    int index = 0;
    long t = start;
    while (packets.Count < targetPackets)
    {
        var client = ClientOf(index);
        t += random.Next(20, 60);
        string kind = index++ % 20 == 19 ? ShortHalfEstablished(t, client) : ShortNormal(t, client);
        counts[kind] = counts.GetValueOrDefault(kind) + 1;
    }
}
else
{
    int index = 0;
    long t = start;
    while (packets.Count < targetPackets)
    {
        var client = ClientOf(index++);
        t += random.Next(100, 500); // ~3,300 new connections per second
        double roll = random.NextDouble();
        string kind = roll switch
        {
            < 0.020 => AcceptedLateRequestSocket(t, client),
            < 0.035 => ResetOnDataCookie(t, client),
            < 0.040 => ResetAtHandshake(t, client),
            < 0.050 => SynDropped(t, client),
            < 0.060 => ScanOrFlood(t, client),
            < 0.065 => Refused(t, client),
            < 0.080 => Normal(t, client, duplicate: true),
            _ => Normal(t, client, duplicate: false),
        };
        counts[kind] = counts.GetValueOrDefault(kind) + 1;
    }
}

packets.Sort((a, b) => a.At.CompareTo(b.At));
Write(output, packets);
Console.Error.WriteLine($"wrote {packets.Count:N0} packets to {output}: {string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value:N0}"))}");
return 0;

string Normal(long t, IpEndpoint client, bool duplicate)
{
    uint c = (uint)random.Next(), s = (uint)random.Next();
    long rtt = random.Next(500, 20_000);
    Handshake(t, client, c, s, rtt);
    long at = t + rtt + 50;
    int exchanges = random.Next(1, 6);
    for (int k = 0; k < exchanges; k++)
    {
        int request = random.Next(60, 400), response = random.Next(200, 1400);
        packets.Add(new(at, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, request));
        if (duplicate)
            packets.Add(new(at + 3, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, request));
        c += (uint)request;
        packets.Add(new(at + 300, server, client, s + 1, c + 1, TcpFlags.Ack | TcpFlags.Psh, response));
        s += (uint)response;
        packets.Add(new(at + rtt + 300, client, server, c + 1, s + 1, TcpFlags.Ack, 0));
        at += rtt + 1000 + random.Next(0, 50_000);
    }
    packets.Add(new(at, client, server, c + 1, s + 1, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(at + 100, server, client, s + 1, c + 2, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(at + rtt + 100, client, server, c + 2, s + 2, TcpFlags.Ack, 0));
    return duplicate ? "accepted (captured twice)" : "accepted";
}

string ShortNormal(long t, IpEndpoint client)
{
    uint c = (uint)random.Next(), s = (uint)random.Next();
    long rtt = random.Next(500, 5_000);
    Handshake(t, client, c, s, rtt);
    long at = t + rtt + 50;
    packets.Add(new(at, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, 100));
    packets.Add(new(at + 300, server, client, s + 1, c + 101, TcpFlags.Ack | TcpFlags.Psh, 500));
    packets.Add(new(at + rtt + 300, client, server, c + 101, s + 501, TcpFlags.Ack, 0));
    packets.Add(new(at + rtt + 1300, client, server, c + 101, s + 501, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(at + rtt + 1400, server, client, s + 501, c + 102, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(at + 2 * rtt + 1400, client, server, c + 102, s + 502, TcpFlags.Ack, 0));
    return "accepted";
}

string ShortHalfEstablished(long t, IpEndpoint client)
{
    uint c = (uint)random.Next(), s = (uint)random.Next();
    long rtt = random.Next(500, 5_000);
    Handshake(t, client, c, s, rtt);
    packets.Add(new(t + 1_000_000, server, client, s, c + 1, TcpFlags.Syn | TcpFlags.Ack, 0)); // the ACK was not taken
    packets.Add(new(t + 1_000_000 + rtt, client, server, c + 1, s + 1, TcpFlags.Ack, 0));
    long at = t + 1_500_000;
    packets.Add(new(at, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, 100));
    packets.Add(new(at + 300, server, client, s + 1, c + 101, TcpFlags.Ack | TcpFlags.Psh, 500));
    packets.Add(new(at + rtt + 300, client, server, c + 101, s + 501, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(at + rtt + 400, server, client, s + 501, c + 102, TcpFlags.Fin | TcpFlags.Ack, 0));
    return "accepted-late";
}

void Handshake(long t, IpEndpoint client, uint c, uint s, long rtt)
{
    packets.Add(new(t, client, server, c, 0, TcpFlags.Syn, 0));
    packets.Add(new(t + 30, server, client, s, c + 1, TcpFlags.Syn | TcpFlags.Ack, 0));
    packets.Add(new(t + rtt, client, server, c + 1, s + 1, TcpFlags.Ack, 0));
}

string AcceptedLateRequestSocket(long t, IpEndpoint client)
{
    // The final ACK met a full accept queue: the request socket re-sends its SYN-ACK, the client re-ACKs, and the
    // client's data finally completes the connection once the queue has room.
    uint c = (uint)random.Next(), s = (uint)random.Next();
    long rtt = random.Next(500, 20_000);
    Handshake(t, client, c, s, rtt);
    packets.Add(new(t + rtt + 20, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, 100));
    long interval = 1_000_000, resend = 0; // re-sent at 1, 3, 7 s: 1 s doubling
    int resends = random.Next(1, 4);
    for (int k = 0; k < resends; k++, interval *= 2)
    {
        resend += interval;
        packets.Add(new(t + resend, server, client, s, c + 1, TcpFlags.Syn | TcpFlags.Ack, 0));
        packets.Add(new(t + resend + rtt, client, server, c + 101, s + 1, TcpFlags.Ack, 0));
    }
    long heal = t + resend + rtt + 200_000;
    packets.Add(new(heal, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, 100));
    packets.Add(new(heal + 50, server, client, s + 1, c + 101, TcpFlags.Ack | TcpFlags.Psh, 500));
    packets.Add(new(heal + rtt, client, server, c + 101, s + 501, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(heal + rtt + 50, server, client, s + 501, c + 102, TcpFlags.Fin | TcpFlags.Ack, 0));
    packets.Add(new(heal + 2 * rtt, client, server, c + 102, s + 502, TcpFlags.Ack, 0));
    return "accepted-late";
}

string ResetOnDataCookie(long t, IpEndpoint client)
{
    // A syncookie connection whose ACK was dropped: no SYN-ACK re-sent, the data is re-sent unanswered until the cookie
    // is dead and the next retransmission draws a bare RST (seq = server ISN + 1).
    uint c = (uint)random.Next(), s = (uint)random.Next();
    long rtt = random.Next(500, 20_000);
    Handshake(t, client, c, s, rtt);
    long rto = 200_000 + rtt;
    long at = t + rtt + 20;
    packets.Add(new(at, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, 4));
    for (int k = 0; k < 9; k++)
    {
        at += rto;
        rto = Math.Min(rto * 2, 120_000_000);
        packets.Add(new(at, client, server, c + 1, s + 1, TcpFlags.Ack | TcpFlags.Psh, 4));
    }
    packets.Add(new(at + 40, server, client, s + 1, 0, TcpFlags.Rst, 0));
    return "reset-on-data";
}

string ResetAtHandshake(long t, IpEndpoint client)
{
    uint c = (uint)random.Next(), s = (uint)random.Next();
    long rtt = random.Next(500, 20_000);
    Handshake(t, client, c, s, rtt);
    packets.Add(new(t + rtt + 30, server, client, s + 1, 0, TcpFlags.Rst, 0));
    return "reset-at-handshake";
}

string SynDropped(long t, IpEndpoint client)
{
    uint c = (uint)random.Next();
    foreach (long after in new long[] { 0, 1_000_000, 2_000_000, 3_000_000 })
        packets.Add(new(t + after, client, server, c, 0, TcpFlags.Syn, 0));
    return "syn-dropped";
}

string ScanOrFlood(long t, IpEndpoint client)
{
    uint c = (uint)random.Next(), s = (uint)random.Next();
    packets.Add(new(t, client, server, c, 0, TcpFlags.Syn, 0));
    foreach (long after in new long[] { 30, 1_000_030, 3_000_030 })
        packets.Add(new(t + after, server, client, s, c + 1, TcpFlags.Syn | TcpFlags.Ack, 0));
    return "scan (no client ACK)";
}

string Refused(long t, IpEndpoint client)
{
    uint c = (uint)random.Next();
    packets.Add(new(t, client, closedPort, c, 0, TcpFlags.Syn, 0));
    packets.Add(new(t + 20, closedPort, client, 0, c + 1, TcpFlags.Rst | TcpFlags.Ack, 0));
    return "refused";
}

static IpEndpoint ClientOf(int index) => Endpoint(0x0a010000u + (uint)(index / 50_000), (ushort)(10_000 + index % 50_000));

static IpEndpoint Endpoint(uint address, ushort port)
{
    Span<byte> bytes = stackalloc byte[4];
    BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
    return IpEndpoint.FromV4(bytes, port);
}

static void Write(string path, List<Packet> packets)
{
    const int snapLength = 128;
    using var file = new BufferedStream(File.Create(path), 1 << 20);
    Span<byte> header = stackalloc byte[24];
    BinaryPrimitives.WriteUInt32LittleEndian(header, 0xa1b2c3d4);
    BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
    BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
    BinaryPrimitives.WriteUInt32LittleEndian(header[16..], snapLength);
    BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
    file.Write(header);
    var frame = new byte[14 + 1500 + 60];
    frame[12] = 0x08;
    Span<byte> record = stackalloc byte[16];
    foreach (var p in packets)
    {
        int ipLength = TcpPacketWriter.Write(frame.AsSpan(14), p.From, p.To, p.Seq, p.Ack, p.Flags, p.Length);
        int length = 14 + ipLength, captured = Math.Min(length, snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(p.At / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(p.At % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)length);
        file.Write(record);
        file.Write(frame.AsSpan(0, captured));
    }
}

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>();
    for (int i = 0; i + 1 < args.Length; i += 2)
        result[args[i].TrimStart('-')] = args[i + 1];
    return result;
}

readonly record struct Packet(long At, IpEndpoint From, IpEndpoint To, uint Seq, uint Ack, TcpFlags Flags, int Length);
