using System.Diagnostics;
using CsCheck;
using Halfway.Analysis;
using Halfway.Capture;
using Halfway.Reports;
using Halfway.Tests.Analysis;
using static Halfway.Tests.Capture.CaptureBytes;

namespace Halfway.Tests.Capture;

/// <summary>
/// Mutates real capture bytes thousands of times (flipped bytes, overwritten lengths, cuts, inserted junk) and runs the
/// whole path — reader, engine, explainer, JSON — on each: no exception but a HalfwayException for an unusable header,
/// no hang, and every warning carries a byte offset inside the data.
/// </summary>
public sealed class FuzzTests
{
    private static readonly byte[][] Corpus = BuildCorpus();

    private static byte[][] BuildCorpus()
    {
        var packets = new List<(long Microseconds, byte[] Ip)>();
        packets.AddRange(new Conversation("10.0.0.2:40000", "10.0.0.1:8080").Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 20).ServerAck(0.012).ClientFin(0.02).ServerFin(0.021).Ack(0.03).Packets);
        packets.AddRange(new Conversation("10.0.0.3:40001", "10.0.0.1:8080").Syn(0.001).SynAck(0.0011).Ack(0.011).SynAck(1.0011).Ack(1.011).Data(1.5, 10).ServerAck(1.5001).Packets);
        var reset = new Conversation("10.0.0.4:40002", "10.0.0.1:8080").Syn(0.002).SynAck(0.0021).Ack(0.012).Data(0.013, 4);
        foreach (var t in new[] { 0.2, 0.6, 1.4, 3.0 }) reset.Retransmit(t);
        packets.AddRange(reset.BareRst(3.0001).Packets);
        packets.AddRange(new Conversation("[fd00::2]:40003", "[fd00::1]:443").Syn(0.003).SynAck(0.0031).SynAck(1.0031).Packets);
        packets.Sort((a, b) => a.Microseconds.CompareTo(b.Microseconds));

        var pcap = Pcap(1, packets.Select(p => new PcapRecord(p.Microseconds, Frame(1, p.Ip, vlanTags: 1))));
        var pcapNs = Pcap(113, packets.Select(p => new PcapRecord(p.Microseconds, Frame(113, p.Ip))), nanoseconds: true, bigEndian: true);
        var ng = new PcapNg().Section().Interface(1).Interface(101, tsresol: 9);
        foreach (var (i, (at, ip)) in packets.Index())
            if (i % 2 == 0) ng.Enhanced(0, (ulong)at, Frame(1, ip)); else ng.Enhanced(1, (ulong)at * 1000, ip);
        var ngBig = new PcapNg(bigEndian: true).Section().Interface(276);
        foreach (var (at, ip) in packets)
            ngBig.Enhanced(0, (ulong)at, Frame(276, ip));
        ngBig.Simple(Frame(276, packets[0].Ip));
        // A capture of the real kernel (tcpdump on loopback): docs/examples/make-explain-capture.sh.
        var real = File.ReadAllBytes(Analysis.RealCaptureTests.ExamplePath);
        return [pcap, pcapNs, ng.ToArray(), ngBig.ToArray(), Gzip(pcap), real, real];
    }

    internal static readonly Gen<(int Op, int Position, byte Value)> Mutation = Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Byte);

    [Fact]
    public void Mutated_captures_never_crash_or_hang()
    {
        var total = Stopwatch.StartNew();
        int runs = 0, rejected = 0;
        Gen.Select(Gen.Int[0, Corpus.Length - 1], Mutation.Array[1, 6]).Sample(input =>
        {
            var bytes = Mutate(Corpus[input.Item1], input.Item2);
            var clock = Stopwatch.StartNew();
            runs++;
            try
            {
                RunWholePath(bytes);
            }
            catch (HalfwayException)
            {
                rejected++; // an unusable header: the CLI prints the message and exits 2
            }
            Assert.True(clock.ElapsedMilliseconds < 2000, $"one input took {clock.ElapsedMilliseconds} ms");
        }, iter: 4000, threads: 1);
        Assert.Equal(4000, runs);
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(20), $"fuzzing took {total.Elapsed}");
        Assert.True(rejected < runs, "every mutated input was rejected: the fuzzer is not reaching the reader");
    }

    internal static byte[] Mutate(byte[] original, (int Op, int Position, byte Value)[] mutations)
    {
        var bytes = new List<byte>(original);
        foreach (var (op, position, value) in mutations)
        {
            if (bytes.Count == 0)
                break;
            int at = position % bytes.Count;
            switch (op)
            {
                case 0: bytes[at] = value; break;                                      // one byte changed
                case 1: bytes[at] ^= (byte)(1 << (value % 8)); break;                  // one bit flipped
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;                // cut
                case 3: bytes.InsertRange(at, Enumerable.Repeat(value, value % 9 + 1)); break; // junk inserted
                case 4: for (int i = 0; i < 4 && at + i < bytes.Count; i++) bytes[at + i] = value; break; // a length overwritten
            }
        }
        return bytes.ToArray();
    }

    private static void RunWholePath(byte[] bytes)
    {
        var report = new ExplainReport(keepAll: true);
        var engine = new AnalysisEngine(new AnalysisContext(), report);
        var summary = CaptureAnalysis.Feed(new CaptureReader(new MemoryStream(bytes), "fuzz"), engine);
        engine.Finish();
        var input = new ExplainInput(["fuzz"], summary);
        foreach (var warning in summary.Warnings)
        {
            Assert.True(warning.ByteOffset >= 0, $"warning without an offset: {warning}");
            if (!warning.Message.Contains("decompressed"))
                Assert.True(warning.ByteOffset <= bytes.Length, $"warning offset {warning.ByteOffset} beyond {bytes.Length} bytes: {warning}");
        }
        var context = new AnalysisContext();
        ExplainTextWriter.Write(TextWriter.Null, input, report, context);
        ExplainJsonWriter.Write(Stream.Null, input, report, context);
        foreach (var connection in report.Kept)
            _ = SequenceDiagram.Render(connection);
    }

    [Fact]
    public void The_unmutated_corpus_reads_whole()
    {
        foreach (var bytes in Corpus)
        {
            var summary = CaptureAnalysis.Feed(new CaptureReader(new MemoryStream(bytes), "corpus"), new AnalysisEngine(new AnalysisContext(), _ => { }));
            Assert.False(summary.Damaged, string.Join("; ", summary.Warnings));
            Assert.True(summary.TcpPackets >= 20, $"expected >= 20 TCP packets vs actual {summary.TcpPackets}");
        }
    }
}
