using System.Globalization;

namespace Halfway.Reports;

/// <summary>
/// What to change, read from one scenario's own evidence: a remedy is listed only when a fate it helps was seen and the
/// run's counters, settings or link say it applies (a bigger backlog is not offered when the final ACKs were lost on the
/// path and the queue never overflowed). Each names its cost, because every one of them trades something.
/// </summary>
internal static class RunRemedies
{
    private static readonly string[] QueueFates = ["accepted-late", "reset-on-data", "stranded", "still-half-established", "syn-dropped", "reset-at-handshake", "client-aborted", "queued"];

    public static List<RemedyReport> For(ScenarioReport s)
    {
        var remedies = new List<RemedyReport>();
        var seen = s.Fates.Where(f => f.Value > 0).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        List<string> Seen(params string[] fates) => fates.Where(seen.Contains).ToList();

        var server = s.Settings.GetValueOrDefault("server") ?? s.Settings.GetValueOrDefault("host") ?? new SortedDictionary<string, string>();
        long overflows = s.Counters.GetValueOrDefault("TcpExtListenOverflows");
        bool abortOnOverflow = server.GetValueOrDefault("net.ipv4.tcp_abort_on_overflow") == "1";
        string somaxconn = server.GetValueOrDefault("net.core.somaxconn") ?? "?";
        int requestSocketKind = s.Connections.Count(c => c.Kind == "request-socket");
        int cookieKind = s.Connections.Count(c => c.Kind == "syncookie");
        bool sentData = s.Connections.Any(c => c.HalfEstablished && c.Steps.Any(step => step.Step == "send" && step.Result == "ok"));
        bool readOnly = s.Connections.Any(c => c.HalfEstablished && c.Steps.Any(step => step.Step == "receive") && !c.Steps.Any(step => step.Step == "send"));

        var overflowFates = Seen(QueueFates);
        if (overflows > 0 && overflowFates.Count > 0)
        {
            remedies.Add(new RemedyReport("server", overflowFates,
                $"Raise the listen backlog and net.core.somaxconn together (the accept queue holds min(backlog, somaxconn) + 1; this run: backlog {s.Backlog}, somaxconn {somaxconn}; ListenOverflows rose by {overflows.ToString(CultureInfo.InvariantCulture)}), so the burst fits.",
                "Each waiting connection holds a full socket in the kernel until accepted; a deeper queue absorbs bursts but hides an accept loop that cannot keep up: clients then wait instead of failing."));
            if (!s.AcceptPolicy.StartsWith("accepts immediately", StringComparison.Ordinal) || seen.Contains("queued"))
                remedies.Add(new RemedyReport("server", overflowFates,
                    $"Accept as fast as connections arrive: an accept loop of its own that accepts until EAGAIN (this server: {s.AcceptPolicy}).",
                    "The queue moves into the application, which must then bound it itself (and answer or shed the excess)."));
        }
        if (seen.Contains("reset-at-handshake") && abortOnOverflow)
            remedies.Add(new RemedyReport("server", ["reset-at-handshake"],
                "Set net.ipv4.tcp_abort_on_overflow back to 0: a final ACK that meets a full queue is then dropped instead of answered with a RST, and the connection completes when a re-sent SYN-ACK's ACK or the client's data finds room.",
                "Clients wait, half-established, instead of failing at once; with 1 they fail fast and can retry elsewhere."));
        var lateNews = Seen("reset-on-data", "stranded", "still-half-established");
        if (lateNews.Count > 0 && !abortOnOverflow && overflows > 0 && requestSocketKind > 0)
            remedies.Add(new RemedyReport("server", lateNews,
                $"Or set net.ipv4.tcp_abort_on_overflow=1, so a final ACK that meets a full queue draws a RST at once and the client fails at its first call, not later or never. It acts on request sockets only ({requestSocketKind} here), not on syncookie connections ({cookieKind} here).",
                $"It resets connections that would have completed a moment later when the queue drained{(seen.Contains("accepted-late") ? $" ({s.Fates["accepted-late"]} accepted-late here)" : "")}."));
        if (s.Link is { DropRules.Count: > 0 } link && overflows == 0 && s.Connections.Any(c => c.HalfEstablished))
            remedies.Add(new RemedyReport("path", Seen(QueueFates),
                $"The final ACKs were lost on the path (the link's rule{(link.DropRules.Count > 1 ? "s" : "")} {string.Join(", ", link.DropRules.Select(r => $"'{r}'"))}), not at a full queue (ListenOverflows did not rise): fix the firewall, conntrack table or middlebox that drops them. A bigger backlog would not help.",
                "None on the server; finding the dropping hop takes a capture on each side of it."));

        if (seen.Contains("reset-on-data"))
            remedies.Add(new RemedyReport("client", ["reset-on-data"],
                "Treat ECONNRESET on the first call of a fresh connection, before any reply, as \"the server never had this connection\" and retry once on a new one (the listener's RST answered the data; the server application never saw it).",
                "One more connect under the same burst; safe only if the protocol makes a repeated request harmless, since a client cannot always tell this RST from a reset after the request was processed."));
        if (sentData && Seen("reset-on-data", "still-half-established", "accepted-late").Count > 0)
            remedies.Add(new RemedyReport("client", Seen("reset-on-data", "still-half-established", "accepted-late"),
                "Set TCP_USER_TIMEOUT to bound how long sent data may stay unacknowledged (default: retransmissions for about 15 minutes, tcp_retries2); with 5 s the next call fails with ETIMEDOUT about 5.5 s after the send.",
                "On a slow or lossy path a live connection is also given up after that long."));
        if (readOnly && Seen("stranded", "still-half-established", "queued").Count > 0)
        {
            remedies.Add(new RemedyReport("client", Seen("stranded", "still-half-established", "queued"),
                "Give the first read a deadline, or enable keepalive with a short idle (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT): nothing else ever tells a client that only reads. Keepalive resets a syncookie connection at the first probe; a request socket answers probes until it expires.",
                "The deadline must exceed the server's longest legitimate silence; each probe is a packet."));
            remedies.Add(new RemedyReport("protocol", Seen("stranded", "still-half-established", "queued"),
                "Let the server speak first (a greeting): a half-established or never-accepted connection then shows as a missing greeting the client can time out on and name.",
                "A protocol change; one more message and round trip per connection."));
        }
        if (seen.Contains("syn-dropped"))
            remedies.Add(new RemedyReport("client", ["syn-dropped"],
                "Give connect() a timeout that covers the SYN re-sends worth waiting for (1 s apart at first, then doubling) and retry with backoff and jitter, so a burst of retries does not meet the full queue again together.",
                "Connection set-up takes seconds under overload instead of failing in one."));
        return remedies;
    }
}
