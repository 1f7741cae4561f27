using System.Text;
using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Wire;

namespace Halfway.Tests.Analysis;

/// <summary>The engine split into shards on threads gives the lone engine's report, byte for byte: the same fates, counts and order.</summary>
public sealed class ShardedAnalysisTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Shards_give_the_lone_engines_report_on_a_busy_capture(bool all)
    {
        var packets = BusyCapture(connections: 24_000);
        string lone = Explain(packets, shards: 0, all);
        Assert.Contains("half-established", lone);
        foreach (int shards in new[] { 1, 2, 3 })
            Assert.Equal(lone, Explain(packets, shards, all));
    }

    [Fact]
    public void Shards_give_the_lone_engines_report_on_the_example_capture()
    {
        string Run(int shards)
        {
            var context = new AnalysisContext();
            var report = new ExplainReport(keepAll: true) { Files = [RealCaptureTests.ExamplePath] };
            using var sharded = shards > 0 ? new ShardedAnalysis(context, report, shards) : null;
            var engine = sharded is null ? new AnalysisEngine(context, report) : null;
            report.Read = CaptureAnalysis.Feed([RealCaptureTests.ExamplePath], (IPacketTarget?)sharded ?? engine!);
            sharded?.Finish();
            engine?.Finish();
            return Write(report, context);
        }
        string lone = Run(0);
        Assert.Equal(lone, Run(2));
        Assert.Equal(lone, Run(3));
    }

    [Fact]
    public void One_busy_flow_on_one_shard_does_not_stall_the_sweeps()
    {
        // Every packet hashes to the same shard: the other ones only get sweeps, which must reach them at once.
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.01);
        for (int i = 0; i < 30_000; i++)
            c.Data(0.02 + i * 0.002, 10).ServerAck(0.021 + i * 0.002);
        var packets = c.Packets;
        Assert.Equal(Explain(packets, shards: 0, all: true), Explain(packets, shards: 2, all: true));
    }

    /// <summary>
    /// About 50 s of traffic (ten sweeps) to three listeners, IPv4 and IPv6: closed and open connections, half-established
    /// ones, refusals, scans, duplicates, port reuse while the old connection is still in the table, and stragglers of
    /// connections already finished.
    /// </summary>
    private static List<(long Microseconds, byte[] Ip)> BusyCapture(int connections)
    {
        var packets = new List<(long Microseconds, byte[] Ip)>();
        string[] servers = ["10.0.0.1:8080", "10.0.0.1:443", "10.0.0.9:8080"];
        for (int i = 0; i < connections; i++)
        {
            double t = i * 0.002;
            int kind = i % 10;
            // Kind 6 reuses the 4-tuple of the kind-0 connection just before it (closed, not swept yet).
            int owner = kind == 6 ? i - 6 : i;
            string client = kind == 9 ? $"[2001:db8::{owner % 500 + 2:x}]:{20000 + owner % 40000}" : $"10.1.{owner / 250 % 250}.{owner % 250 + 2}:{20000 + owner % 40000}";
            string server = kind == 9 ? "[2001:db8::1]:8080" : servers[owner % 7 % 3];
            var c = new Conversation(client, server, clientIsn: (uint)(1000 + i * 7919), serverIsn: (uint)(900_000 + i * 104729));
            switch (kind)
            {
                case 0 or 6 or 9:
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 100).ServerAck(t + 0.0111).ClientFin(t + 0.02).ServerFin(t + 0.0201).Ack(t + 0.03);
                    break;
                case 1:
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 100).ServerAck(t + 0.0111);
                    break;
                case 2:
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).SynAck(t + 1.0001).Ack(t + 1.01).Data(t + 2.5, 10).ServerAck(t + 2.5001);
                    break;
                case 3:
                    c.Syn(t).Refuse(t + 0.0001);
                    break;
                case 4:
                    c.Syn(t).SynAck(t + 0.0001).SynAck(t + 1.0001);
                    break;
                case 5:
                    c.Syn(t).Duplicate().SynAck(t + 0.0001).Duplicate().Ack(t + 0.01).Duplicate(40).Data(t + 0.011, 100).Duplicate().ServerAck(t + 0.012);
                    break;
                case 7:
                    // Closed, then its last ACK re-sent 4 s later: a straggler, not a new connection.
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).ClientFin(t + 0.02).ServerFin(t + 0.0201).Ack(t + 0.03);
                    c.Duplicate(4_000_000);
                    break;
                case 8:
                    c.Syn(t).SynAck(t + 0.0001).Ack(t + 0.01).Data(t + 0.011, 4).Retransmit(t + 0.22).Retransmit(t + 0.64).BareRst(t + 0.6401);
                    break;
            }
            packets.AddRange(c.Packets);
        }
        return packets.OrderBy(p => p.Microseconds).ToList(); // stable: same-time packets keep their order
    }

    private static string Explain(List<(long Microseconds, byte[] Ip)> packets, int shards, bool all)
    {
        var context = new AnalysisContext();
        var report = new ExplainReport(keepAll: all);
        using var sharded = shards > 0 ? new ShardedAnalysis(context, report, shards) : null;
        var engine = sharded is null ? new AnalysisEngine(context, report) : null;
        IPacketTarget target = (IPacketTarget?)sharded ?? engine!;
        foreach (var (at, ip) in packets)
        {
            Assert.True(TcpSegment.TryParseIp(ip, out var segment));
            target.AddPacket(at, segment);
        }
        sharded?.Finish();
        engine?.Finish();
        return Write(report, context);
    }

    private static string Write(ExplainReport report, AnalysisContext context)
    {
        var text = new StringWriter();
        ExplainTextWriter.Write(text, report, context, maxDetails: 1000);
        var json = new MemoryStream();
        ExplainJsonWriter.Write(json, report, context);
        return text + Encoding.UTF8.GetString(json.ToArray());
    }
}
