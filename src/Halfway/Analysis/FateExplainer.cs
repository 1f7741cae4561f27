using System.Globalization;

namespace Halfway.Analysis;

/// <summary>
/// Plain sentences for fates: what the client saw, what the server's kernel did and why, citing the evidence with its
/// times (relative to the connection's first event) and the counters when the context has them.
/// </summary>
internal static class FateExplainer
{
    /// <summary>A paragraph for one fate across the connections that have it, built around one representative connection.</summary>
    public static IReadOnlyList<string> ExplainFate(Fate fate, IReadOnlyList<ConnectionReport> connections, AnalysisContext context)
    {
        var lines = new List<string>();
        var with = connections.Where(c => c.Fate == fate).ToList();
        if (with.Count == 0)
            return lines;
        int half = with.Count(c => c.HalfEstablished);
        string count = with.Count == 1 ? "1 connection" : string.Create(CultureInfo.InvariantCulture, $"{with.Count:N0} connections");
        lines.Add($"{FateNames.Name(fate)} — {count}: {FateNames.Meaning(fate)}." + (half > 0 && fate is Fate.AcceptedLate or Fate.Queued or Fate.Unknown ? $" {half} of them were half-established." : ""));
        var kinds = with.Where(c => c.Kind is not null).GroupBy(c => c.Kind!).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count():N0} {g.Key}")).ToList();
        if (kinds.Count > 0)
            lines.Add($"Kind: {string.Join(", ", kinds)}" + (with.Count(c => c.HalfEstablished && c.Kind is null) is > 0 and var unknownKind ? $", {unknownKind} of unknown kind." : "."));
        var representative = Representative(with);
        lines.Add($"For example {representative.Client} -> {representative.Server}:");
        lines.AddRange(ExplainConnection(representative, context).Select(s => "  " + s));
        return lines;
    }

    /// <summary>The connection whose evidence is richest: the one a reader learns most from.</summary>
    /// <remarks>
    /// Half-established first, then the most evidence, then the earliest; among equals the first in the list (what a stable
    /// sort's first element was). One pass instead of sorting every kept connection of a fate (up to 200,000) to take one.
    /// </remarks>
    public static ConnectionReport Representative(IReadOnlyList<ConnectionReport> connections)
    {
        if (connections.Count == 0)
            throw new InvalidOperationException("no connection to pick a representative from");
        var best = connections[0];
        for (int i = 1; i < connections.Count; i++)
        {
            var c = connections[i];
            if (c.HalfEstablished != best.HalfEstablished)
            {
                if (c.HalfEstablished)
                    best = c;
                continue;
            }
            int evidence = c.Evidence.Count, bestEvidence = best.Evidence.Count;
            if (evidence > bestEvidence || (evidence == bestEvidence && c.FirstSeenAtMicroseconds < best.FirstSeenAtMicroseconds))
                best = c;
        }
        return best;
    }

    /// <summary>Sentences for one connection: the client's view, the server kernel's view, and why.</summary>
    public static IReadOnlyList<string> ExplainConnection(ConnectionReport report, AnalysisContext context)
    {
        var lines = new List<string>();
        var evidence = report.Evidence;
        long origin = evidence.Count > 0 ? evidence[0].AtMicroseconds : report.FirstSeenAtMicroseconds;
        string T(long at) => TimeText.Offset(at, origin);
        string Times(IEnumerable<ConnectionEvent> events, int max = 6)
        {
            var list = events.ToList();
            var shown = string.Join(", ", list.Take(max).Select(e => T(e.AtMicroseconds)));
            return list.Count > max ? $"{shown} and {list.Count - max} more times" : shown;
        }

        var connected = report.ConnectedAtMicroseconds;
        var resends = evidence.Where(e => e.Kind == ConnectionEventKind.ServerSynAckResent && connected is { } c && e.AtMicroseconds > c).ToList();
        var retransmissions = evidence.Where(e => e.Kind == ConnectionEventKind.ClientRetransmission).ToList();
        var facts = report.Facts;
        var complete = report.ServerCompletedAtMicroseconds;
        string queue = context.AcceptQueueLimit is { } limit ? $"the accept queue (limit {limit}) was full" : "the accept queue was full";
        bool linkDroppedAck = facts.HandshakeAckDroppedByLink;
        var linkDroppedReAcks = evidence.Where(e => e.Kind == ConnectionEventKind.ClientAck && e.Value < 0).ToList();
        // Why the server did not take the client's ACK: the run's own link knows when it dropped it; otherwise both causes stay open.
        string ackFate = linkDroppedAck
            ? "the lab's link dropped that ACK (a drop rule or the link's loss), so it never reached the server"
            : $"the request socket (SYN-RECV) ignored that ACK — {queue} when it arrived, or the ACK was lost before the server";

        switch (report.Fate)
        {
            case Fate.Accepted:
                lines.Add(connected is { } a
                    ? $"Client: connect() returned at {T(a)}." + (complete is { } done ? $" Server: its kernel held a complete connection by {T(done)}." : "")
                    : "Client: connected.");
                if (report.AcceptedAtMicroseconds is { } acc)
                    lines.Add($"Server: the application accepted it at {T(acc)}.");
                else if (!context.ServerSideObserved)
                    lines.Add("Whether the application called accept() cannot be seen on the wire; the server's kernel completed the handshake.");
                break;

            case Fate.Refused:
                lines.Add("Client: connect() failed with ECONNREFUSED. Server: its kernel answered the SYN with a RST: nothing listened on that port.");
                break;

            case Fate.SynDropped:
            {
                var syns = evidence.Where(e => e.Kind is ConnectionEventKind.ClientSyn or ConnectionEventKind.ClientSynRetransmitted).ToList();
                lines.Add($"Client: sent its SYN at {Times(syns)} and got no answer: it stays in SYN-SENT until connect() times out.");
                lines.Add("Server: since Linux 4.10 a SYN that arrives while the accept queue is full is dropped (ListenOverflows, ListenDrops); with tcp_syncookies=0 a full request queue drops it too (TCPReqQFullDrop); a firewall or a lost packet gives the same picture.");
                break;
            }

            case Fate.HandshakeIncomplete:
                lines.Add("Client: never acknowledged the server's SYN-ACK, so its connect() never returned (or nothing real was connecting: a port scan, a SYN flood with forged sources).");
                lines.Add($"Server: held a request socket in SYN-RECV{(evidence.Count(e => e.Kind == ConnectionEventKind.ServerSynAckResent) is > 0 and var n ? $" and re-sent its SYN-ACK {n} times" : "")}; this is server-side half-open, not half-established.");
                break;

            case Fate.ResetAtHandshake:
            {
                long rst = facts.BareRstAt ?? facts.CallResetAt ?? origin;
                lines.Add($"Client: connect() returned at {T(connected ?? origin)}; the RST that followed at {T(rst)} makes its next call fail with ECONNRESET.");
                var answered = evidence.LastOrDefault(e => e.AtMicroseconds <= rst && e.Kind is ConnectionEventKind.ClientHandshakeAck or ConnectionEventKind.ClientAck
                    or ConnectionEventKind.ClientData);
                if (answered.Kind == ConnectionEventKind.ClientAck && resends.Count > 0)
                {
                    lines.Add($"Server: the client's first ACK at {T(connected ?? origin)} did not create the connection ({(linkDroppedAck ? "the lab's link dropped it" : "it was lost, or ignored")}); the request socket re-sent its SYN-ACK at {Times(resends.Where(r => r.AtMicroseconds <= rst))}, and the kernel answered the client's re-ACK at {T(answered.AtMicroseconds)} with a RST ({TimeText.Duration(rst - answered.AtMicroseconds)} later) instead of creating the connection: with tcp_abort_on_overflow=1 an ACK that completes a request socket while the accept queue is full is reset (EmbryonicRsts). No data had been sent.");
                }
                else
                    lines.Add($"Server: its kernel answered the final ACK with a RST at once ({TimeText.Duration(rst - (connected ?? rst))} after it) instead of creating the connection: with tcp_abort_on_overflow=1 a final ACK that meets a full accept queue is reset (EmbryonicRsts).");
                break;
            }

            case Fate.Unknown when connected is null:
                lines.Add($"The capture does not show this connection's handshake, so its fate cannot be told: {report.Reason}.");
                break;

            case Fate.Unknown when facts.AcceptUnknownAt is { } gone && !report.HalfEstablished:
                lines.Add($"Client: connect() returned at {T(connected!.Value)}. Server: its kernel completed the handshake by {T(complete ?? gone)}: the connection was never half-established.");
                lines.Add($"Then: {report.Reason}; the first sample without it was at {T(gone)}.");
                break;

            case Fate.Unknown when !report.HalfEstablished:
                lines.Add($"Client: connect() returned at {T(connected!.Value)}. Nothing after that tells whether the server completed the handshake: {report.Reason}.");
                break;

            default:
                Half(lines);
                break;
        }
        return lines;

        void Half(List<string> lines)
        {
            long c = connected ?? origin;
            // What the client saw.
            var client = $"Client: connect() returned at {T(c)}";
            if (facts.FirstDataAt is { } fin && facts.FirstDataIsFin)
                client += $"; it sent nothing and closed its side (FIN) at {T(fin)}";
            else if (facts.FirstDataAt is { } data)
                client += $"; it sent data at {T(data)} (send() succeeds: it only copies into the kernel)";
            if (retransmissions.Count > 0)
                client += $" and re-sent it at {Times(retransmissions)} with no acknowledgement";
            lines.Add(client + ".");

            // What the server's kernel did.
            if (resends.Count > 0)
                lines.Add($"Server: re-sent its SYN-ACK at {Times(resends)} although the client's ACK came at {T(c)}: {ackFate}." +
                    (linkDroppedReAcks.Count > 0 ? $" The link also dropped the client's re-ACKs at {Times(linkDroppedReAcks)}." : ""));
            else if (facts.RequestSocketAfterAckAt is { } requestSample)
                lines.Add($"Server: its socket table still showed a request socket in SYN-RECV at {T(requestSample)}, after the client's ACK: " +
                    (linkDroppedAck ? "the lab's link had dropped that ACK." : $"the ACK was dropped ({queue}) or lost."));
            else if (linkDroppedAck)
                lines.Add($"Server: the client's ACK at {T(c)} never reached it: {ackFate}.");
            else if (report.Kind == ConnectionClassifier.SyncookieKind)
                lines.Add($"Server: re-sent no SYN-ACK and {(context.ServerSideObserved ? "its socket table showed no request socket" : "did not answer the client's segments")}: it held no state — a syncookie connection, whose final ACK was dropped because {queue}. (TCP_DEFER_ACCEPT also holds back re-sends until data comes.)");
            else if (report.HalfEstablished)
                lines.Add("Server: had not completed the handshake; the evidence does not say whether it held a request socket or had sent a syncookie.");
            else if (complete is { } completedAt)
                lines.Add($"Server: its kernel completed the handshake at {T(completedAt)}: the connection was never half-established.");

            switch (report.Fate)
            {
                case Fate.AcceptedLate:
                    var healer = evidence.LastOrDefault(e => e.AtMicroseconds <= (complete ?? long.MaxValue) && e.Kind is ConnectionEventKind.ClientAck or ConnectionEventKind.ClientData or ConnectionEventKind.ClientRetransmission or ConnectionEventKind.ClientFin);
                    lines.Add($"Then: the server completed the connection by {T(complete ?? c)}, {TimeText.Duration((complete ?? c) - c)} after the client's ACK" +
                        (healer.AtMicroseconds != 0 ? $", on the client's {(healer.Kind == ConnectionEventKind.ClientAck ? "re-sent ACK" : "data")} at {T(healer.AtMicroseconds)}" : "") +
                        ": the accept queue had room again. The client saw only a delay.");
                    break;
                case Fate.Queued when report.HalfEstablished:
                    lines.Add($"Then: the server's kernel completed the connection{(complete is { } q ? $" at {T(q)}" : "")} but the application never accepted it: it waited in the accept queue until observation ended.");
                    break;
                case Fate.Queued:
                    lines.Add("Then: the application never accepted it: it waited in the accept queue until observation ended.");
                    break;
                case Fate.ResetOnData:
                {
                    long rst = facts.BareRstAt ?? facts.CallResetAt ?? origin;
                    var answered = evidence.LastOrDefault(e => e.AtMicroseconds <= rst && e.Kind is ConnectionEventKind.ClientData
                        or ConnectionEventKind.ClientRetransmission or ConnectionEventKind.ClientFin or ConnectionEventKind.ClientAck);
                    string segment = answered.AtMicroseconds != 0 ? $"the client's segment at {T(answered.AtMicroseconds)}" : "a client segment";
                    if (report.Kind == ConnectionClassifier.SyncookieKind)
                    {
                        long age = rst - (facts.SynAckAt ?? c);
                        string earlier = retransmissions.Count > 0
                            ? $"each earlier copy of the client's data ({retransmissions.Count} re-sent) got no answer — dropped while the accept queue was full — "
                            : "";
                        string why = age >= ConnectionClassifier.CookieMinimumLifetimeMicroseconds
                            ? $"the cookie had aged out: it was issued with the SYN-ACK {TimeText.Duration(age)} earlier, and a syncookie is valid 60–120 s"
                            : $"the listener could not validate the cookie it carried ({TimeText.Duration(age)} after the SYN-ACK; SyncookiesFailed counts such segments)";
                        lines.Add($"Then: {(earlier.Length > 0 ? earlier + "until " : "")}{segment} drew a bare RST at {T(rst)} ({TimeText.Duration(rst - c)} after connect): {why}, and with no state the listener answers with a RST. The client's next call fails with ECONNRESET.");
                    }
                    else
                        lines.Add($"Then: the server's state had expired without a word; {segment} found nothing and drew a bare RST at {T(rst)} ({TimeText.Duration(rst - c)} after connect): the client's next call fails with ECONNRESET. The RST answers \"no state\", not the data itself.");
                    break;
                }
                case Fate.Stranded:
                    if (facts.ServerSocketGoneAt is { } gone && facts.ServerTableHeldIt)
                        lines.Add($"Then: the server's table no longer held it from {T(gone)} and the client sent nothing: the expiry was silent and nothing will ever tell the client; a recv() waits until its own timeout, keepalive or TCP_USER_TIMEOUT.");
                    else if (report.Kind == ConnectionClassifier.SyncookieKind)
                        lines.Add("Then: the server held nothing (a syncookie connection has no timer and nothing to expire) and the client sent nothing: nothing will ever tell the client; a recv() waits until its own timeout, keepalive or TCP_USER_TIMEOUT.");
                    else
                        lines.Add("Then: the server held nothing and the client sent nothing: nothing will ever tell the client; a recv() waits until its own timeout, keepalive or TCP_USER_TIMEOUT.");
                    break;
                case Fate.StillHalfEstablished:
                    lines.Add($"Then: still half-established when observation ended{(facts.SilenceAtEnd is { } silence ? $" ({TimeText.Duration(silence)} of silence)" : "")}: {report.Reason}.");
                    break;
                case Fate.ClientAborted:
                    lines.Add("Then: the client gave up and reset the connection itself (its own timeout) before the server completed it.");
                    break;
                case Fate.Unknown:
                    lines.Add($"Then: unknown — {report.Reason}.");
                    break;
            }
        }
    }
}
