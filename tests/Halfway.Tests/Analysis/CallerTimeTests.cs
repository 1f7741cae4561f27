using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Tests.Analysis;

/// <summary>
/// The engine fed with the caller's time (what a split analysis builds on): it analyses exactly the packets it is given,
/// sweeps where the caller says, gives each finished connection its place, and finishes its open flows one at a time.
/// </summary>
public sealed class CallerTimeTests
{
    private sealed class Placed : IPlacedSink
    {
        public readonly List<(FinishPlace Place, ConnectionReport Report)> Finished = [];
        public void Add(in FinishPlace place, ConnectionReport? report, in ConnectionSummary summary) => Finished.Add((place, report!));
    }

    private static TimedSegment[] Batch(IEnumerable<(long Microseconds, byte[] Ip)> packets) =>
        packets.OrderBy(p => p.Microseconds).Select(p =>
        {
            Assert.True(TcpSegment.TryParseIp(p.Ip, out var segment));
            return new TimedSegment { At = p.Microseconds, Segment = segment, Hash = FlowHash.Of(segment.Source, segment.Destination) };
        }).ToArray();

    /// <summary>A connection refused, one closed, both finished by a sweep; one half-established and still open at the end.</summary>
    private static IEnumerable<(long Microseconds, byte[] Ip)> Traffic() =>
        new Conversation("10.0.0.2:40001").Syn(0).Refuse(0.0001).Packets
            .Concat(new Conversation("10.0.0.2:40002").Syn(0.5).SynAck(0.5001).Ack(0.51).Data(0.52, 10).ServerAck(0.5201)
                .ClientFin(0.6).ServerFin(0.6001).Ack(0.61).Packets)
            .Concat(new Conversation("10.0.0.2:40003").Syn(8).SynAck(8.0001).Ack(8.01).SynAck(9.0001).Packets);

    [Fact]
    public void Fed_every_packet_with_the_clock_the_engine_would_keep_it_finishes_the_same_connections_in_the_same_order()
    {
        var batch = Batch(Traffic());
        var alone = new List<ConnectionReport>();
        var engine = new AnalysisEngine(new AnalysisContext(), alone.Add);
        engine.AddPackets(batch);
        engine.Finish();

        var placed = new Placed();
        var open = new List<ConnectionReport>();
        var fed = new AnalysisEngine(new AnalysisContext(), open.Add);
        Assert.True(fed.TakeTimeFromCaller(placed));
        var clock = SweepClock.New();
        var sweeps = new List<(int Index, long At)>();
        for (int i = 0; i < batch.Length; i++)
            if (clock.Tick(batch[i].At, AnalysisEngine.SweepIntervalMicroseconds))
                sweeps.Add((i, batch[i].At));
        fed.AddPicked(batch, Enumerable.Range(0, batch.Length).ToArray(), firstOrdinal: 0, sweeps);
        for (int i = 1; i < placed.Finished.Count; i++)
            Assert.False(placed.Finished[i].Place.Precedes(placed.Finished[i - 1].Place));
        while (fed.NextOpenFlow(out var place))
        {
            Assert.Equal(long.MaxValue, place.Ordinal);
            fed.FinishNextOpenFlow(clock.Now);
        }

        var together = placed.Finished.Select(f => f.Report).Concat(open).ToList();
        Assert.Equal(alone.Select(r => (r.Client, r.FateName, r.LastSeenAtMicroseconds)), together.Select(r => (r.Client, r.FateName, r.LastSeenAtMicroseconds)));
        Assert.True(open.Count >= 1 && placed.Finished.Count >= 2, $"{placed.Finished.Count} finished on the way, {open.Count} at the end");
        Assert.Equal(engine.PacketsAnalysed, fed.PacketsAnalysed);
    }

    [Fact]
    public void An_engine_takes_the_callers_time_only_before_its_first_packet_and_then_no_packet_of_its_own()
    {
        var batch = Batch(Traffic());
        var started = new AnalysisEngine(new AnalysisContext(), _ => { });
        started.AddPacket(batch[0].At, batch[0].Segment);
        Assert.False(started.TakeTimeFromCaller(new Placed()));
        Assert.Throws<InvalidOperationException>(() => started.AddPicked(batch, [0], 0, []));

        var fed = new AnalysisEngine(new AnalysisContext(), _ => { });
        Assert.True(fed.TakeTimeFromCaller(new Placed()));
        Assert.False(fed.TakeTimeFromCaller(new Placed()));
        Assert.Throws<InvalidOperationException>(() => fed.AddPacket(batch[0].At, batch[0].Segment));
        Assert.Throws<InvalidOperationException>(() => fed.AddPackets(batch));
    }
}
