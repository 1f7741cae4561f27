using Halfway.Lab;
using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Runs;

/// <summary>
/// What the server's kernel said about a run's connections (its witness's events), set beside what the wire and the
/// analysis inferred. Where they disagree the finding says so: a finding, not an error.
/// </summary>
internal sealed class KernelTestimony
{
    /// <summary>Per client end: the kernel's events about that connection, in time order.</summary>
    public Dictionary<IpEndpoint, List<KernelEventObservation>> ByClient { get; } = new();

    /// <summary>Drops by listener and reason ("0.0.0.0:8080 TCP_LISTEN_OVERFLOW" → count), over the whole run.</summary>
    public SortedDictionary<string, int> DropsByListenerAndReason { get; } = new(StringComparer.Ordinal);
    public int SynAckResends { get; private set; }
    public int ResetsSent { get; private set; }
    public int ResetsReceived { get; private set; }
    /// <summary>Sentences: where the kernel confirms or contradicts the wire-only inference.</summary>
    public List<string> Findings { get; } = new();

    /// <summary>The first drop of a bare ACK (the handshake's final ACK or its re-sends) by the server's kernel.</summary>
    public static KernelEventObservation? FirstAckDrop(IReadOnlyList<KernelEventObservation> events) =>
        events.FirstOrDefault(IsHandshakeAckDrop);

    /// <summary>
    /// A bare ACK dropped at a listener: the handshake's end reaches the listener (its request socket or its syncookie
    /// check). A bare ACK dropped with no listener came too late for any socket (a TIME-WAIT socket swallows a
    /// duplicate ACK of the close as NOT_SPECIFIED): not a handshake's.
    /// </summary>
    public static bool IsHandshakeAckDrop(KernelEventObservation e) =>
        e is { Kind: KernelEventKind.PacketDropped, FromClient: true, Flags: TcpFlags.Ack, Listener: not null };

    /// <summary>"the server's kernel dropped the final ACK at +1.014 s: TCP_LISTEN_OVERFLOW, accept queue 3 of 2".</summary>
    public static string Says(KernelEventObservation drop, int ackDrops) =>
        $"the server's kernel dropped the final ACK at +{drop.AtMicroseconds / 1e6:0.000} s: {drop.Reason}"
        + (drop.Listener is { } l ? $", accept queue {l.AcceptQueueLength} of {l.AcceptQueueLimit}" : "")
        + (ackDrops > 1 ? $" ({ackDrops} ACKs dropped in all)" : "");

    public static KernelTestimony? Of(ScenarioRun run, Func<int, ConnectionVerdict> verdictOf)
    {
        if (!run.KernelWitnessOn)
            return null;
        var testimony = new KernelTestimony();
        foreach (var e in run.KernelEvents)
        {
            if (!testimony.ByClient.TryGetValue(e.Client, out var list))
                testimony.ByClient[e.Client] = list = new();
            list.Add(e);
            switch (e.Kind)
            {
                case KernelEventKind.PacketDropped:
                    string key = $"{e.Listener?.Listener.ToString() ?? "no listener"} {e.Reason}";
                    testimony.DropsByListenerAndReason[key] = testimony.DropsByListenerAndReason.GetValueOrDefault(key) + 1;
                    break;
                case KernelEventKind.SynAckRetransmitted:
                    testimony.SynAckResends++;
                    break;
                case KernelEventKind.ResetSent:
                    testimony.ResetsSent++;
                    break;
                default:
                    testimony.ResetsReceived++;
                    break;
            }
        }
        testimony.Compare(run, verdictOf);
        return testimony;
    }

    private void Compare(ScenarioRun run, Func<int, ConnectionVerdict> verdictOf)
    {
        // The wire as the link saw it: which final ACKs it delivered or dropped, and the SYN-ACKs the server re-sent.
        var ackDelivered = new HashSet<IpEndpoint>();
        var ackLostOnLink = new HashSet<IpEndpoint>();
        var synAcks = new Dictionary<IpEndpoint, int>();
        foreach (var (packet, segment, _) in run.Segments)
        {
            if (packet.Direction == LinkDirection.ClientToServer && segment.Flags == TcpFlags.Ack && segment.PayloadLength == 0)
            {
                if (packet.Action == LinkAction.Dropped)
                    ackLostOnLink.Add(segment.Source);
                else if (packet.Action == LinkAction.Passed)
                    ackDelivered.Add(segment.Source);
            }
            else if (packet.Direction == LinkDirection.ServerToClient && segment.Has(TcpFlags.Syn | TcpFlags.Ack))
                synAcks[segment.Destination] = synAcks.GetValueOrDefault(segment.Destination) + 1;
        }
        bool linkSeesAll = run.Scenario.Topology == Topology.Pair;
        int confirmed = 0, lostBeforeServer = 0;
        var silent = new List<string>();
        var unexpected = new List<string>();
        foreach (var connection in run.Connections)
        {
            if (connection.Local is not { } client)
                continue;
            var verdict = verdictOf(connection.Id);
            var drop = FirstAckDrop(ByClient.GetValueOrDefault(client) ?? []);
            bool halfWithSocketOrCookie = verdict is { HalfEstablished: true, Kind: "request-socket" or "syncookie" };
            if (halfWithSocketOrCookie && drop is not null)
                confirmed++;
            else if (halfWithSocketOrCookie && ackLostOnLink.Contains(client) && !ackDelivered.Contains(client))
                lostBeforeServer++;
            else if (halfWithSocketOrCookie && ackDelivered.Contains(client))
                silent.Add(client.ToString());
            else if (!verdict.HalfEstablished && drop is not null && verdict.Fate is not ("syn-dropped" or "refused"))
                unexpected.Add($"{client} ({verdict.Fate})");
        }
        if (confirmed > 0)
            Findings.Add($"the server's kernel confirms {confirmed} half-established connection(s): it dropped their final ACK itself");
        if (lostBeforeServer > 0)
            Findings.Add($"{lostBeforeServer} half-established connection(s) lost their final ACK on the link, before the server: the server's kernel reported no drop for them, as it never saw the ACK");
        if (silent.Count > 0)
            Findings.Add($"the wire and the kernel disagree: the wire shows the final ACK of {silent.Count} half-established connection(s) reaching the server, but the server's kernel reported no drop for them ({Some(silent)})");
        if (unexpected.Count > 0)
            Findings.Add($"the wire and the kernel disagree: the server's kernel dropped a bare ACK of {unexpected.Count} connection(s) the wire-only analysis does not call half-established ({Some(unexpected)})");
        if (linkSeesAll)
        {
            int onWire = synAcks.Values.Sum(n => Math.Max(0, n - 1));
            if (onWire != SynAckResends)
                Findings.Add($"the wire and the kernel disagree on SYN-ACK re-sends: {onWire} on the wire, {SynAckResends} by the kernel's word");
        }
    }

    private static string Some(List<string> items) =>
        string.Join(", ", items.Take(5)) + (items.Count > 5 ? $" and {items.Count - 5} more" : "");
}
