using Halfway.Tests.Analysis;
using static Halfway.Tests.Capture.CaptureBytes;

namespace Halfway.Tests.Capture;

/// <summary>A busy capture for the tests that compare ways of feeding the engine (one thread, parsed ahead, split).</summary>
internal static class BusyTraffic
{
    /// <summary>
    /// Connections of every kind the engine tells apart, several starting at the same microsecond (so that shards must
    /// agree on their order), over many sweeps: accepted, half-established, refused, SYNs dropped, scans, a start not
    /// captured, duplicates, port reuse with a new ISN, and stragglers after a close (ignored, then a new connection).
    /// </summary>
    public static List<(long Microseconds, byte[] Ip)> Packets(int connections, double spacingSeconds = 0.0004)
    {
        var packets = new List<(long Microseconds, byte[] Ip)>();
        for (int i = 0; i < connections; i++)
        {
            var client = $"10.{1 + i / 60000}.{i / 250 % 240}.{i % 250 + 1}:{10000 + i % 50000}";
            double t = i / 3 * spacingSeconds; // three at a time
            var c = new Conversation(client, "10.0.0.1:8080", clientIsn: (uint)(1000 + i), serverIsn: (uint)(900_000 + i));
            switch (i % 12)
            {
                case 0: c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).SynAck(t + 1.0001).Ack(t + 1.01).Data(t + 2, 10).BareRst(t + 2.0001); break;
                case 1: c.Syn(t).Refuse(t + 0.0001); break;
                case 2: c.Syn(t).Syn(t + 1).Syn(t + 3); break;
                case 3: c.Syn(t).SynAck(t + 0.0001).SynAck(t + 1.0001).SynAck(t + 3.0001); break;
                case 4: c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 100).ServerAck(t + 0.012); break; // still open at the end
                case 5:
                    c.Syn(t).SynAck(t + 0.0001).Duplicate().Ack(t + 0.01).Data(t + 0.011, 100).ServerAck(t + 0.012).ClientFin(t + 0.02).ServerFin(t + 0.021).Ack(t + 0.03);
                    // The same 4-tuple again with a new ISN: a new connection, refused this time.
                    packets.AddRange(new Conversation(client, "10.0.0.1:8080", clientIsn: (uint)(500_000 + i), serverIsn: 7).Syn(t + 0.5).Refuse(t + 0.5001).Packets);
                    break;
                case 6:
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).ClientFin(t + 0.02).ServerFin(t + 0.021).Ack(t + 0.03);
                    var fin = c.Packets[3].Ip; // re-sent after the flow was finished: ignored within 10 s, a new (unknown) connection after
                    packets.Add((Conversation.Epoch + (long)((t + 4) * 1e6), fin));
                    packets.Add((Conversation.Epoch + (long)((t + 15) * 1e6), fin));
                    break;
                case 7:
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 10).ServerAck(t + 0.012);
                    c.Packets.RemoveRange(0, 3); // its start is not in the capture
                    break;
                case 8: c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).SynAck(t + 1.0001).Ack(t + 1.01).Data(t + 1.02, 10).ServerAck(t + 1.021); break;
                default: c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 100).ServerAck(t + 0.012).ClientFin(t + 0.02).ServerFin(t + 0.021).Ack(t + 0.03); break;
            }
            packets.AddRange(c.Packets);
        }
        return [.. packets.OrderBy(p => p.Microseconds)];
    }

    public static byte[] Capture(IEnumerable<(long Microseconds, byte[] Ip)> packets) =>
        Pcap(101, packets.Select(p => new PcapRecord(p.Microseconds, p.Ip)));
}
