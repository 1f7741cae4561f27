using Halfway.Reports;

namespace Halfway.Tests.Reports;

/// <summary>A remedy is offered when the run's evidence supports it, and not when it does not.</summary>
public sealed class RunRemediesTests
{
    [Fact]
    public void An_overflowing_queue_gets_backlog_accept_loop_and_abort_on_overflow_and_the_client_retry_for_resets()
    {
        var s = Scenario(overflows: 40, abortOnOverflow: false, accept: "accepts 2/s",
            Connection("reset-on-data", "request-socket", send: true), Connection("accepted-late", "syncookie", send: true), Connection("accepted", null, send: true));
        var remedies = RunRemedies.For(s);
        var backlog = Assert.Single(remedies, r => r.Change.StartsWith("Raise the listen backlog", StringComparison.Ordinal));
        Assert.Equal(["accepted-late", "reset-on-data"], backlog.Fates);
        Assert.Contains("backlog 5, somaxconn 4096; ListenOverflows rose by 40", backlog.Change);
        Assert.Contains(remedies, r => r.Change.StartsWith("Accept as fast", StringComparison.Ordinal) && r.Change.Contains("accepts 2/s"));
        var abort = Assert.Single(remedies, r => r.Change.Contains("tcp_abort_on_overflow=1"));
        Assert.Contains("request sockets only (1 here), not on syncookie connections (1 here)", abort.Change);
        Assert.Contains("(1 accepted-late here)", abort.Cost);
        Assert.Contains(remedies, r => r.Side == "client" && r.Fates.SequenceEqual(["reset-on-data"]) && r.Change.Contains("ECONNRESET"));
        Assert.Contains(remedies, r => r.Change.Contains("TCP_USER_TIMEOUT"));
        Assert.DoesNotContain(remedies, r => r.Side == "path");
        Assert.DoesNotContain(remedies, r => r.Fates.Contains("accepted"));
        Assert.All(remedies, r => Assert.False(string.IsNullOrWhiteSpace(r.Cost)));
    }

    [Fact]
    public void Final_acks_lost_on_the_path_point_at_the_path_not_the_backlog()
    {
        var s = Scenario(overflows: 0, abortOnOverflow: false, accept: "accepts immediately (1 acceptor)",
            Connection("accepted-late", "request-socket", send: true), Connection("accepted", null, send: true)) with
        {
            Link = new LinkReport(5, 5, 0, 100, 3, 0, ["lost final ACKs"]),
        };
        var remedies = RunRemedies.For(s);
        var path = Assert.Single(remedies, r => r.Side == "path");
        Assert.Contains("'lost final ACKs'", path.Change);
        Assert.Contains("A bigger backlog would not help", path.Change);
        Assert.DoesNotContain(remedies, r => r.Change.Contains("backlog and net.core.somaxconn"));
        Assert.DoesNotContain(remedies, r => r.Change.Contains("tcp_abort_on_overflow"));
    }

    [Fact]
    public void Resets_at_the_handshake_under_abort_on_overflow_suggest_turning_it_off_not_on()
    {
        var s = Scenario(overflows: 10, abortOnOverflow: true, accept: "accepts immediately (1 acceptor)",
            Connection("reset-at-handshake", "request-socket", send: false));
        var remedies = RunRemedies.For(s);
        Assert.Contains(remedies, r => r.Change.StartsWith("Set net.ipv4.tcp_abort_on_overflow back to 0", StringComparison.Ordinal));
        Assert.DoesNotContain(remedies, r => r.Change.Contains("tcp_abort_on_overflow=1"));
        // Accepting immediately already: the accept-loop advice is not offered.
        Assert.DoesNotContain(remedies, r => r.Change.StartsWith("Accept as fast", StringComparison.Ordinal));
    }

    [Fact]
    public void A_client_that_only_reads_gets_a_read_deadline_and_a_greeting_not_tcp_user_timeout()
    {
        var s = Scenario(overflows: 12, abortOnOverflow: false, accept: "accepts 1/s",
            Connection("stranded", "syncookie", send: false), Connection("queued", null, send: false));
        var remedies = RunRemedies.For(s);
        Assert.Contains(remedies, r => r.Side == "client" && r.Change.Contains("deadline") && r.Fates.SequenceEqual(["stranded", "queued"]));
        Assert.Contains(remedies, r => r.Side == "protocol");
        Assert.DoesNotContain(remedies, r => r.Change.Contains("TCP_USER_TIMEOUT"));
    }

    [Fact]
    public void A_run_where_every_connection_was_accepted_needs_no_remedy()
    {
        var s = Scenario(overflows: 0, abortOnOverflow: false, accept: "accepts immediately (1 acceptor)",
            Connection("accepted", null, send: true), Connection("accepted", null, send: true));
        Assert.Empty(RunRemedies.For(s));
    }

    private static RunConnectionReport Connection(string fate, string? kind, bool send) => new()
    {
        Id = 0,
        Client = "198.18.0.1:40000",
        Server = "198.18.0.2:8080",
        ConnectedAtMs = 1,
        AcceptedAtMs = null,
        Steps = send
            ? [new("connect", "ok", null, 1, 1, null, null), new("send", "ok", null, 2, 0, null, null), new("receive", "data", null, 3, 1, null, null)]
            : [new("connect", "ok", null, 1, 1, null, null), new("receive", "timeout", null, 3, 1, null, null)],
        Fate = fate,
        HalfEstablished = fate is not ("accepted" or "queued"),
        Kind = kind,
        Evidence = [],
        Timeline = [],
    };

    private static ScenarioReport Scenario(long overflows, bool abortOnOverflow, string accept, params RunConnectionReport[] connections) => new()
    {
        Name = "t",
        Variant = "custom",
        Description = "",
        Source = "test.yaml",
        Topology = "pair",
        Server = "198.18.0.2:8080",
        DurationMs = 1000,
        ReachedDurationBound = false,
        AcceptPolicy = accept,
        Backlog = 5,
        Settings = new() { ["server"] = new() { ["net.core.somaxconn"] = "4096", ["net.ipv4.tcp_abort_on_overflow"] = abortOnOverflow ? "1" : "0" } },
        SettingsChanged = [],
        Counters = overflows > 0 ? new() { ["TcpExtListenOverflows"] = overflows } : new(),
        CountersByHost = [],
        CountersOverTime = [],
        Link = new LinkReport(5, 5, 0, 100, 0, 0, []),
        ServerSide = new ServerReport(0, null, null, 0, 0, 0, null, null, null, false),
        StepSummary = [],
        Fates = new(connections.GroupBy(c => c.Fate).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal),
        Explanations = [],
        Answers = [],
        Notes = [],
        Warnings = [],
        Capture = null,
        Connections = connections.ToList(),
    };
}
