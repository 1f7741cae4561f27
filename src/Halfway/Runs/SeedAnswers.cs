using System.Globalization;
using Halfway.Analysis;
using Halfway.Lab;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Runs;

/// <summary>
/// Answers the seed's three questions from one run's data: why send() succeeds on a half-established
/// connection, why receive() fails only after a send, and whether the server resets such a connection on its own.
/// Every figure comes from the run; where the run has no such connection, the answer says so.
/// </summary>
internal static class SeedAnswers
{
    public static IEnumerable<string> For(ScenarioRun run, IReadOnlyList<ConnectionReport> reports, KernelTestimony? kernel = null)
    {
        var half = reports.Where(r => r.HalfEstablished).ToList();
        if (half.Count == 0)
        {
            yield return "No connection of this run was half-established, so it cannot answer the seed's questions.";
            yield break;
        }
        var byClient = run.Connections.Where(c => c.Local is not null).ToDictionary(c => c.Local!.Value);
        var halfConnections = half.Select(r => byClient.GetValueOrDefault(r.Client)).OfType<Traffic.ClientConnection>().ToList();
        var senders = halfConnections.Where(c => c.Steps.Any(s => s.Step == ClientStep.Send)).ToList();
        var nonSenders = halfConnections.Where(c => !c.Steps.Any(s => s.Step == ClientStep.Send)).ToList();
        string kinds = string.Join(", ", half.GroupBy(r => r.Kind ?? "unknown kind").Select(g => $"{g.Count()} {g.Key}"));

        // 1. send() succeeds
        if (senders.Count > 0)
        {
            var sends = senders.Select(c => c.Steps.First(s => s.Step == ClientStep.Send)).ToList();
            int ok = sends.Count(s => s.Result == CallResult.Ok);
            int unacked = sends.Count(s => s.Result == CallResult.Ok && s.Info is { Unacked: > 0 });
            yield return $"Why does send() succeed? {ok} of {sends.Count} sends on the {half.Count} half-established connections ({kinds}) returned success: " +
                $"send() only copies the bytes into the client kernel's buffer. Right after it, TCP_INFO showed the data still unacknowledged on {unacked} of them; " +
                "the client is ESTABLISHED (it got the SYN-ACK and sent its ACK), so nothing local can fail.";
        }
        else
            yield return $"Why does send() succeed? This scenario never sends; {half.Count} connections were half-established ({kinds}).";

        // 2. receive() fails only after a send
        var resetSenders = senders.Where(c => c.Steps.Any(s => s.Result == CallResult.Reset)).ToList();
        if (senders.Count > 0)
        {
            var rstDelays = resetSenders.Select(c => RstAfterClientSegment(run.SegmentsByClient[c.Local!.Value])).OfType<double>().ToList();
            string after = rstDelays.Count > 0
                ? $"; each RST left the server {Range(rstDelays.Min(), rstDelays.Max())} after a client segment reached it (the data or its retransmission)"
                : "";
            var completed = senders.Count(c => c.Steps.Any(s => s.Step == ClientStep.Receive && s.Result == CallResult.Data));
            yield return $"Why does receive() fail only after a send? Of {senders.Count} half-established connections that sent, {resetSenders.Count} got ECONNRESET{after}, " +
                $"and {completed} got the reply because their data completed the handshake once the accept queue had room. " +
                "The RST is the server's answer to a segment for which it holds no state: without a segment from the client there is nothing to answer.";
        }
        if (nonSenders.Count > 0)
        {
            int timeouts = nonSenders.Count(c => c.Steps.Any(s => s.Step == ClientStep.Receive && s.Result == CallResult.Timeout));
            int rstBeforeClose = nonSenders.Count(c => FirstRstBeforeClientFin(run.SegmentsByClient[c.Local!.Value]));
            int rstAfterClose = nonSenders.Count(c => run.SegmentsByClient[c.Local!.Value].Any(s => IsServerRst(s) && s.Packet.SeenAtMicroseconds < run.ServerStoppedAtMicroseconds))
                - rstBeforeClose;
            yield return $"Receive only: {nonSenders.Count} half-established connections never sent; {timeouts} of their receive() calls ended by timeout, " +
                $"and while they waited the server sent {rstBeforeClose} of them a RST. An idle ESTABLISHED socket runs no timer, so the client learns nothing." +
                (rstAfterClose > 0 ? $" ({rstAfterClose} got a RST only after the client closed: its FIN was the first segment the server could answer.)" : "");
        }

        // 3. does the server reset on its own?
        // RSTs after the server application closed its listener at the end of the run are that shutdown's, not the kernel's timers'.
        var unsolicited = half.Count(r => run.SegmentsByClient[r.Client].Any(s => IsServerRst(s) && s.Packet.SeenAtMicroseconds < run.ServerStoppedAtMicroseconds)
            && RstAfterClientSegment(run.SegmentsByClient[r.Client]) is null);
        int atShutdown = half.Count(r => run.SegmentsByClient[r.Client].Any(s => IsServerRst(s) && s.Packet.SeenAtMicroseconds >= run.ServerStoppedAtMicroseconds));
        int expired = half.Count(r => r.Kind == ConnectionClassifier.RequestSocketKind && r.Evidence.Any(e => e.Kind == ConnectionEventKind.ServerSocketGone));
        int cookieNoResend = half.Count(r => r.Kind == ConnectionClassifier.SyncookieKind && r.SynAckResends == 0);
        yield return $"Does the server reset a half-established connection on its own (the seed's accepted answer)? In this run it sent {unsolicited} RSTs that did not answer a client segment" +
            (atShutdown > 0 ? $" (and {atShutdown} when the server application closed its listener at the end of the run, resetting what still waited in its accept queue). " : ". ") +
            (expired > 0 ? $"{expired} request sockets vanished from the server's table with nothing sent: expiry is silent. " : "") +
            (cookieNoResend > 0 ? $"{cookieNoResend} syncookie connections got no re-sent SYN-ACK at all: the server held no state for them. " : "") +
            "The reset the seed saw is the answer to the client's own next segment.";

        if (kernel is not null)
            yield return KernelWord(half, kernel);
    }

    /// <summary>The server kernel's own word on the half-established connections: whose final ACK it dropped and why, per kind, and its RSTs.</summary>
    private static string KernelWord(List<ConnectionReport> half, KernelTestimony kernel)
    {
        var perKind = new List<string>();
        foreach (var kind in half.GroupBy(r => r.Kind ?? "unknown kind").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var drops = kind.Select(r => KernelTestimony.FirstAckDrop(kernel.ByClient.GetValueOrDefault(r.Client) ?? [])).OfType<KernelEventObservation>().ToList();
            string reasons = drops.Count == 0 ? "" : " (" + string.Join(", ", drops.GroupBy(d => d.Reason).Select(g => $"{g.Key} {g.Count()}")) + ")";
            perKind.Add($"{drops.Count} of {kind.Count()} {kind.Key}{reasons}");
        }
        var resets = half.SelectMany(r => kernel.ByClient.GetValueOrDefault(r.Client) ?? []).Where(e => e.Kind == KernelEventKind.ResetSent).ToList();
        return "The server's kernel, in its own words (tracepoints): it dropped the final ACK itself of " + string.Join("; ", perKind) + ". "
            + (resets.Count > 0
                ? $"It sent {resets.Count} RSTs to these connections ({string.Join(", ", resets.GroupBy(e => e.Reason ?? "no reason").Select(g => $"{g.Key} {g.Count()}"))})."
                : "It sent none of them a RST.")
            + " A final ACK it did not drop either never reached it (lost on the way) or completed the connection.";
    }

    private static bool FirstRstBeforeClientFin(IEnumerable<RunSegment> connection)
    {
        foreach (var s in connection)
        {
            if (s.Packet.Direction == LinkDirection.ClientToServer && s.Segment.Has(TcpFlags.Fin))
                return false;
            if (IsServerRst(s))
                return true;
        }
        return false;
    }

    private static bool IsServerRst(RunSegment s) => s.Packet.Direction == LinkDirection.ServerToClient && s.Segment.Has(TcpFlags.Rst);

    /// <summary>Milliseconds from the last client segment that reached the server to the server's first RST to that client; null if none.</summary>
    private static double? RstAfterClientSegment(IEnumerable<RunSegment> connection)
    {
        long lastClientArrival = -1;
        foreach (var s in connection)
        {
            if (s.Packet.Direction == LinkDirection.ClientToServer && s.Packet.Action == LinkAction.Passed)
                lastClientArrival = Math.Max(lastClientArrival, s.Packet.DeliveredAtMicroseconds);
            else if (IsServerRst(s))
                return lastClientArrival >= 0 && s.Packet.SeenAtMicroseconds - lastClientArrival < 50_000 ? (s.Packet.SeenAtMicroseconds - lastClientArrival) / 1000.0 : null;
        }
        return null;
    }

    private static string Range(double minMs, double maxMs) => Duration(minMs) == Duration(maxMs) ? Duration(minMs) : $"{Duration(minMs)}..{Duration(maxMs)}";

    // The server answers within microseconds; "0.005 ms" reads as a typo for the link's 5 ms.
    private static string Duration(double ms) => ms < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{ms * 1000:0} µs")
        : string.Create(CultureInfo.InvariantCulture, $"{ms:0.###} ms");
}
