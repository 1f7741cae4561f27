using Halfway.Analysis;
using Halfway.Observe;

namespace Halfway.Tests.Analysis;

/// <summary>Packets in, fates out: the flow tracker's reading of sequence numbers, duplicates, timing and port reuse.</summary>
public sealed class EngineTests
{
    [Fact]
    public void Accepted_connection_with_close()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.010).Data(0.011, 100).ServerAck(0.0111).ServerData(0.012, 200).Ack(0.022)
            .ClientFin(0.03).ServerFin(0.0301).Ack(0.04);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.Accepted, report.Fate);
        Assert.False(report.HalfEstablished);
        Assert.Equal("10.0.0.2:40000", report.Client.ToString());
        Assert.Equal("10.0.0.1:8080", report.Server.ToString());
    }

    [Fact]
    public void SynAck_resent_after_the_clients_ack_then_completed_by_data_is_accepted_late()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.010).SynAck(1.0001).Ack(1.01).SynAck(3.0001).Ack(3.01)
            .Data(3.5, 10).ServerAck(3.5101);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.AcceptedLate, report.Fate);
        Assert.True(report.HalfEstablished);
        Assert.Equal("request-socket", report.Kind);
        Assert.Equal(2, report.SynAckResends);
        var lines = FateExplainer.ExplainConnection(report, new AnalysisContext());
        Assert.Contains(lines, l => l.Contains("+1.000 s") && l.Contains("+3.000 s") && l.Contains("+0.010 s"));
    }

    [Fact]
    public void Data_never_acknowledged_then_bare_rst_is_reset_on_data_of_the_syncookie_kind()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.010).Data(0.011, 4);
        foreach (var t in new[] { 0.22, 0.64, 1.5, 3.2, 6.6, 13.4, 27, 54, 108 })
            c.Retransmit(t);
        c.BareRst(108.0001);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.ResetOnData, report.Fate);
        Assert.True(report.HalfEstablished);
        Assert.Equal("syncookie", report.Kind);
        Assert.Contains(report.Evidence, e => e.Kind == ConnectionEventKind.ServerBareRst && e.Value == 1);
    }

    [Fact]
    public void Rst_right_after_the_final_ack_is_reset_at_handshake()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.010).BareRst(0.0101);
        Assert.Equal(Fate.ResetAtHandshake, Assert.Single(c.Analyze()).Fate);
    }

    [Fact]
    public void The_same_packets_captured_twice_are_not_resends()
    {
        var c = new Conversation().Syn(0).Duplicate().SynAck(0.0001).Duplicate().Ack(0.010).Duplicate(40).Data(0.011, 100).Duplicate()
            .ServerAck(0.012).Duplicate();
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.Accepted, report.Fate);
        Assert.False(report.HalfEstablished);
        Assert.Equal(0, report.SynAckResends);
        Assert.Equal(5, report.DuplicatesIgnored);
    }

    [Fact]
    public void A_SynAck_answering_a_resent_syn_is_not_a_resend()
    {
        // The first SYN-ACK was lost before the client: the client re-sends its SYN and the server answers it twice over.
        var c = new Conversation().Syn(0).SynAck(0.0001).Syn(1.0).SynAck(1.0001).Ack(1.010).SynAck(1.0102).Data(1.011, 10).ServerAck(1.012);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.Accepted, report.Fate);
        Assert.False(report.HalfEstablished);
    }

    [Fact]
    public void SynAck_resends_without_any_client_ack_are_not_half_established()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).SynAck(1.0001).SynAck(3.0001).SynAck(7.0001);
        var report = Assert.Single(c.Analyze(endSeconds: 70));
        Assert.Equal(Fate.HandshakeIncomplete, report.Fate);
        Assert.False(report.HalfEstablished);
    }

    [Fact]
    public void Rst_after_fin_is_an_ordinary_close()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 10).ServerAck(0.012).ServerFin(0.02).Data(0.03, 10).BareRst(0.0301);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.Accepted, report.Fate);
        Assert.False(report.HalfEstablished);
    }

    [Fact]
    public void Port_reuse_with_a_new_isn_is_a_new_connection()
    {
        var first = new Conversation(clientIsn: 1000).Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 10).ServerAck(0.012).ClientFin(0.02).ServerFin(0.021).Ack(0.03);
        var second = new Conversation(clientIsn: 77_000, serverIsn: 5).Syn(1).Refuse(1.0001);
        var reports = Conversation.Analyze(first.Packets.Concat(second.Packets));
        Assert.Equal(2, reports.Count);
        Assert.Equal([Fate.Accepted, Fate.Refused], reports.OrderBy(r => r.FirstSeenAtMicroseconds).Select(r => r.Fate));
    }

    [Fact]
    public void A_connection_whose_start_is_missing_is_unknown()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 10).ServerAck(0.012);
        var report = Assert.Single(Conversation.Analyze(c.Packets.Skip(3)));
        Assert.Equal(Fate.Unknown, report.Fate);
        Assert.Equal("10.0.0.1:8080", report.Server.ToString()); // the lower port is taken for the server's
        var lines = FateExplainer.ExplainConnection(report, new AnalysisContext());
        Assert.DoesNotContain(lines, l => l.Contains("connect() returned"));
    }

    [Fact]
    public void A_closed_connections_stragglers_are_ignored_for_ten_seconds_then_start_an_unknown_connection()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 10).ServerAck(0.012)
            .ClientFin(0.02).ServerFin(0.021).Ack(0.03);
        var fin = c.Packets[5].Ip; // the client's FIN
        var packets = c.Packets.ToList();
        // Re-sent FINs: after the flow was finished (closed 2 s, swept), within the tombstone's 10 s, then after it.
        packets.Add((Conversation.Epoch + 4_000_000, fin));
        packets.Add((Conversation.Epoch + 9_000_000, fin));
        packets.Add((Conversation.Epoch + 25_000_000, fin));
        var reports = new List<ConnectionReport>();
        var engine = new AnalysisEngine(new AnalysisContext(), reports.Add);
        foreach (var (at, ip) in packets)
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
        engine.Finish();
        Assert.Equal(2, engine.StragglersIgnored);
        Assert.Equal([Fate.Accepted, Fate.Unknown], reports.Select(r => r.Fate));
    }

    /// <summary>Counts what it is not asked to report, as explain's report does with plainly accepted connections.</summary>
    private sealed class CountingSink : IConnectionSink
    {
        public List<ConnectionReport> Reports { get; } = [];
        public List<ConnectionSummary> Counted { get; } = [];
        public bool WantsReport(in ConnectionSummary summary) => summary.Fate != Fate.Accepted || summary.HalfEstablished;
        public void Add(ConnectionReport report) => Reports.Add(report);
        public void Count(in ConnectionSummary summary) => Counted.Add(summary);
    }

    private static void Feed(AnalysisEngine engine, IEnumerable<(long Microseconds, byte[] Ip)> packets)
    {
        foreach (var (at, ip) in packets)
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            engine.AddPacket(at, segment);
        }
    }

    [Fact]
    public void A_plainly_accepted_connection_is_finished_at_the_ack_of_its_last_fin_and_its_stragglers_ignored()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).Data(0.011, 10).ServerAck(0.012)
            .ClientFin(0.02).ServerFin(0.021);
        var sink = new CountingSink();
        var engine = new AnalysisEngine(new AnalysisContext(), sink);
        Feed(engine, c.Packets);
        Assert.Equal(1, engine.OpenFlows); // both FINs sent, the server's not acknowledged yet
        int before = c.Packets.Count;
        c.Ack(0.03);
        Feed(engine, c.Packets.Skip(before));
        Assert.Equal(0, engine.OpenFlows);
        Assert.Equal(Fate.Accepted, Assert.Single(sink.Counted).Fate);
        // The server's FIN re-sent (the last ACK lost) half a second later: a straggler of the finished connection.
        Feed(engine, [(Conversation.Epoch + 500_000, c.Packets[6].Ip)]);
        engine.Finish();
        Assert.Equal(1, engine.StragglersIgnored);
        Assert.Single(sink.Counted);
        Assert.Empty(sink.Reports);
    }

    [Fact]
    public void A_half_established_connection_that_closed_is_still_finished_by_a_sweep_with_what_followed()
    {
        // Completed late (the SYN-ACK re-sent after the ACK): reported, so it stays until a sweep, and a packet after its
        // close still lands on its timeline.
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.01).SynAck(1.0001).Ack(1.01).Data(1.5, 10).ServerAck(1.5101)
            .ClientFin(1.6).ServerFin(1.601).Ack(1.61);
        var sink = new CountingSink();
        var engine = new AnalysisEngine(new AnalysisContext(), sink);
        Feed(engine, c.Packets);
        Assert.Equal(1, engine.OpenFlows);
        Feed(engine, [(Conversation.Epoch + 1_900_000, c.Packets[^2].Ip)]);
        engine.Finish();
        var report = Assert.Single(sink.Reports);
        Assert.Equal(Fate.AcceptedLate, report.Fate);
        Assert.Equal(0, engine.StragglersIgnored);
        Assert.Empty(sink.Counted);
    }

    [Fact]
    public void Connections_finished_together_are_reported_in_the_order_they_started()
    {
        var packets = new List<(long Microseconds, byte[] Ip)>();
        for (int i = 0; i < 50; i++)
            packets.AddRange(new Conversation($"10.0.1.{i + 2}:{40000 + (i * 7919) % 20000}", "10.0.0.1:8080")
                .Syn(i * 0.01).SynAck(i * 0.01 + 0.0001).Refuse(i * 0.01 + 0.0002).Packets.Skip(1));
        var reports = Conversation.Analyze(packets);
        Assert.Equal(50, reports.Count);
        Assert.Equal(reports.OrderBy(r => r.FirstSeenAtMicroseconds).Select(r => r.Client), reports.Select(r => r.Client));
    }

    [Fact]
    public void Hundreds_of_connections_finished_together_are_reported_in_the_order_they_started_ties_in_packet_order()
    {
        // Enough for the radix sort, in an order the flow table's hash scatters; three SYNs share each microsecond.
        var packets = new List<(long Microseconds, byte[] Ip)>();
        var started = new List<string>();
        for (int i = 0; i < 900; i++)
        {
            string client = $"10.0.{i / 200 + 1}.{i % 200 + 2}:{40000 + (i * 7919) % 20000}";
            double at = (i / 3) * 0.002 + (i / 3 % 7) * 0.0001;
            packets.AddRange(new Conversation(client, "10.0.0.1:8080").Syn(at).SynAck(at + 0.0001).Refuse(at + 0.0002).Packets.Skip(1));
            started.Add(client);
        }
        var reports = Conversation.Analyze(packets);
        Assert.Equal(900, reports.Count);
        Assert.Equal(started, reports.Select(r => r.Client.ToString()));
    }

    [Fact]
    public void Idle_flows_are_finished_while_streaming_so_memory_follows_open_flows()
    {
        var reports = new List<ConnectionReport>();
        var engine = new AnalysisEngine(new AnalysisContext { IdleTimeoutMicroseconds = 60_000_000 }, reports.Add);
        int maxOpen = 0;
        for (int i = 0; i < 200; i++)
        {
            var c = new Conversation($"10.0.{i / 200}.{i % 200 + 2}:40000", "10.0.0.1:8080").Syn(i).SynAck(i + 0.0001).Ack(i + 0.01)
                .Data(i + 0.011, 10).ServerAck(i + 0.012).ClientFin(i + 0.02).ServerFin(i + 0.021).Ack(i + 0.03);
            foreach (var (at, ip) in c.Packets)
            {
                Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
                engine.AddPacket(at, segment);
            }
            maxOpen = Math.Max(maxOpen, engine.OpenFlows);
        }
        engine.Finish();
        Assert.Equal(200, reports.Count);
        Assert.True(maxOpen <= 20, $"open flows expected <= 20 vs actual {maxOpen}");
    }

    [Fact]
    public void Capture_starting_at_the_SynAck_still_sees_resends()
    {
        // The SYN is not in the capture: nothing was "answered", so the re-sent SYN-ACK is the request socket's timer.
        var c = new Conversation().SynAck(0.0001).Ack(0.010).SynAck(1.0001).Ack(1.01).Data(2.0, 10).ServerAck(2.0001);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.AcceptedLate, report.Fate);
        Assert.Equal(1, report.SynAckResends);
    }

    [Fact]
    public void A_first_packet_with_no_flags_and_zero_numbers_is_not_a_duplicate()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.010).Data(0.011, 10).ServerAck(0.012);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(0, report.DuplicatesIgnored);
    }

    [Fact]
    public void A_syn_flood_does_not_fill_memory()
    {
        var reports = new List<ConnectionReport>();
        var engine = new AnalysisEngine(new AnalysisContext(), reports.Add);
        int maxOpen = 0;
        for (int i = 0; i < 3000; i++)
        {
            // One forged SYN every 100 ms, each answered by a SYN-ACK that nobody acknowledges.
            var c = new Conversation($"10.9.{i / 250}.{i % 250 + 1}:{1024 + i}", "10.0.0.1:80").Syn(i * 0.1).SynAck(i * 0.1 + 0.0001);
            foreach (var (at, ip) in c.Packets)
            {
                Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
                engine.AddPacket(at, segment);
            }
            maxOpen = Math.Max(maxOpen, engine.OpenFlows);
        }
        engine.Finish();
        Assert.Equal(3000, reports.Count);
        Assert.All(reports, r => Assert.False(r.HalfEstablished));
        Assert.True(maxOpen < 800, $"open flows expected < 800 (70 s of SYNs) vs actual {maxOpen}");
    }

    [Fact]
    public void A_late_accept_after_many_events_is_not_lost()
    {
        // Seen in a lab run: after the kernel completed the connection, six more events filled the flow's slots, the
        // application's accept() took the last one and the socket leaving the table overwrote it: "queued" although accepted.
        var client = Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.2:40000"));
        var server = Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.1:8080"));
        var c = new Conversation().Syn(0).SynAck(0.005).Ack(0.010).Data(1.0, 4).Retransmit(1.2).Retransmit(1.6).ServerAck(2.0);
        var observations = new List<Observation>();
        long frame = 0;
        foreach (var (at, ip) in c.Packets)
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            observations.Add(new PacketObservation(at, segment, ++frame, DeliveredAtMicroseconds: at + 5000));
        }
        long t0 = Conversation.Epoch;
        observations.Add(new ClientCallObservation(t0 + 11_000, client, server, ClientStep.Connect, CallResult.Ok, null));
        observations.Add(new ServerSocketObservation(t0 + 60_000, client, server, null, 0));
        observations.Add(new ServerSocketObservation(t0 + 2_020_000, client, server, TcpState.Established, 0));
        for (int i = 0; i < 8; i++)
            observations.Add(new ClientCallObservation(t0 + 2_100_000 + i * 1000, client, server, ClientStep.Receive, CallResult.Timeout, null));
        observations.Add(new ServerSocketObservation(t0 + 3_000_000, client, server, TcpState.CloseWait, 0));
        observations.Add(new ServerAcceptObservation(t0 + 4_000_000, client, server));
        observations.Add(new ServerSocketObservation(t0 + 4_050_000, client, server, null, 0));
        observations.Sort((a, b) => a.AtMicroseconds.CompareTo(b.AtMicroseconds));
        var reports = AnalysisEngine.Analyze(observations, new AnalysisContext { ServerSideObserved = true, EndMicroseconds = t0 + 5_000_000 });
        var report = Assert.Single(reports);
        Assert.Equal(Fate.AcceptedLate, report.Fate);
        Assert.NotNull(report.AcceptedAtMicroseconds);
    }

    [Fact]
    public void Lab_observations_give_ground_truth()
    {
        var client = Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.2:40000"));
        var server = Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.1:8080"));
        var c = new Conversation().Syn(0).SynAck(0.005).Ack(0.010);
        var observations = new List<Observation>();
        long frame = 0;
        foreach (var (at, ip) in c.Packets)
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            bool finalAck = segment.Flags == Halfway.Wire.TcpFlags.Ack;
            observations.Add(new PacketObservation(at, segment, ++frame, DroppedByLink: finalAck, DeliveredAtMicroseconds: finalAck ? null : at + 5000));
        }
        observations.Add(new ClientCallObservation(Conversation.Epoch + 10_000, client, server, ClientStep.Connect, CallResult.Ok, null));
        observations.Add(new ServerSocketObservation(Conversation.Epoch + 100_000, client, server, TcpState.SynRecv, 0));
        observations.Add(new ServerSocketObservation(Conversation.Epoch + 70_000_000, client, server, null, 5));
        var reports = AnalysisEngine.Analyze(observations, new AnalysisContext { ServerSideObserved = true, EndMicroseconds = Conversation.Epoch + 100_000_000 });
        var report = Assert.Single(reports);
        Assert.Equal(Fate.Stranded, report.Fate);
        Assert.Equal("request-socket", report.Kind);
        Assert.Contains(report.Timeline, t => t.Column == TimelineColumn.Client && t.Text.StartsWith("connect"));
        var diagram = SequenceDiagram.Render(report);
        Assert.Contains("SYN-ACK", diagram);
        Assert.Contains("SYN-RECV", diagram);
        Assert.Contains(". above dropped by the link", diagram);
    }

    [Fact]
    public void The_kernels_own_word_lands_on_the_connections_timeline()
    {
        var client = Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.2:40000"));
        var server = Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("10.0.0.1:8080"));
        var c = new Conversation().Syn(0).SynAck(0.005).Ack(0.010);
        var observations = new List<Observation>();
        long frame = 0;
        foreach (var (at, ip) in c.Packets)
        {
            Assert.True(Halfway.Wire.TcpSegment.TryParseIp(ip, out var segment));
            observations.Add(new PacketObservation(at, segment, ++frame));
        }
        observations.Add(new KernelEventObservation(Conversation.Epoch + 10_100, client, server, KernelEventKind.PacketDropped, "TCP_LISTEN_OVERFLOW")
        {
            Flags = Halfway.Wire.TcpFlags.Ack,
            Listener = new KernelListenerState(Halfway.Wire.IpEndpoint.From(System.Net.IPEndPoint.Parse("0.0.0.0:8080")), 6, 5),
        });
        var report = Assert.Single(AnalysisEngine.Analyze(observations, new AnalysisContext()));
        var entry = Assert.Single(report.Timeline, t => t.Text.StartsWith("kernel", StringComparison.Ordinal));
        Assert.Equal(TimelineColumn.Server, entry.Column);
        Assert.Equal("kernel dropped the client's ACK (TCP_LISTEN_OVERFLOW, listener 0.0.0.0:8080, accept queue 6 of 5)", entry.Text);
    }
}
