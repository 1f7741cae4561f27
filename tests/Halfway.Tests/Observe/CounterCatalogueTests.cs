using Halfway.Observe;

namespace Halfway.Tests.Observe;

/// <summary>The catalogue replaced watch's counter list, the report's headline list and three short-name functions: these pin what they said.</summary>
public sealed class CounterCatalogueTests
{
    [Theory]
    [InlineData("TcpExtListenOverflows", "ListenOverflows")]
    [InlineData("TcpExtTCPReqQFullDoCookies", "TCPReqQFullDoCookies")]
    [InlineData("TcpExtTCPDeferAcceptDrop", "TCPDeferAcceptDrop")]
    [InlineData("TcpOutRsts", "TcpOutRsts")]
    [InlineData("TcpRetransSegs", "TcpRetransSegs")]
    [InlineData("IpExtInOctets", "IpExtInOctets")]
    [InlineData("TcpEx", "TcpEx")]
    public void Short_names_drop_only_a_leading_TcpExt(string name, string expected)
    {
        Assert.Equal(expected, CounterCatalogue.ShortName(name));
        Assert.Equal(expected, new CounterSample(name, 0, 0, 0).ShortName);
    }

    [Fact]
    public void Watch_shows_the_TcpExt_overflow_counters_in_its_order()
    {
        Assert.Equal(
            ["TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop", "TcpExtTCPReqQFullDoCookies", "TcpExtSyncookiesSent",
             "TcpExtSyncookiesRecv", "TcpExtSyncookiesFailed", "TcpExtEmbryonicRsts", "TcpExtTCPDeferAcceptDrop"],
            CounterCatalogue.Watched.Select(c => c.Name));
        Assert.All(CounterCatalogue.Watched, c => Assert.StartsWith("TcpExt", c.Name));
    }

    [Fact]
    public void Request_hints_are_the_drop_queue_and_retransmission_counters()
    {
        Assert.Equal(
            ["TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop", "TcpExtTCPReqQFullDoCookies", "TcpExtSyncookiesSent",
             "TcpExtTCPDeferAcceptDrop", "TcpExtTCPSynRetrans"],
            CounterCatalogue.RequestHints.Select(c => c.Name));
    }

    [Fact]
    public void The_report_headline_keeps_its_order()
    {
        Assert.Equal(
            ["TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtSyncookiesSent", "TcpExtSyncookiesRecv", "TcpExtSyncookiesFailed",
             "TcpExtTCPReqQFullDrop", "TcpExtTCPReqQFullDoCookies", "TcpExtEmbryonicRsts", "TcpOutRsts", "TcpExtTCPSynRetrans",
             "TcpExtTCPTimeouts", "TcpRetransSegs", "TcpExtTCPAbortOnData", "TcpExtTCPAbortOnTimeout", "TcpExtTCPDeferAcceptDrop"],
            CounterCatalogue.Headline.Select(c => c.Name));
        Assert.True(CounterCatalogue.IsHeadline("TcpOutRsts"));
        Assert.False(CounterCatalogue.IsHeadline("TcpExtTCPOFOQueue"));
    }

    [Fact]
    public void Every_counter_is_catalogued_once_with_a_one_line_meaning()
    {
        var all = CounterCatalogue.All.ToList();
        Assert.Equal(all.Count, all.Select(c => c.Name).Distinct().Count());
        foreach (var list in new[] { CounterCatalogue.Watched, CounterCatalogue.RequestHints, CounterCatalogue.Headline })
            Assert.All(list, c => Assert.Same(c, CounterCatalogue.Find(c.Name)));
        Assert.All(all, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Meaning));
            Assert.DoesNotContain('\n', c.Meaning);
        });
        Assert.Null(CounterCatalogue.Find("TcpExtNoSuchCounter"));
    }

    [Fact]
    public void Watch_alerts_on_the_counters_it_alerted_on_before()
    {
        Assert.Equal(
            ["TcpExtEmbryonicRsts", "TcpExtListenOverflows", "TcpExtSyncookiesFailed", "TcpExtSyncookiesSent", "TcpExtTCPDeferAcceptDrop", "TcpExtTCPReqQFullDrop"],
            CounterCatalogue.All.Where(c => c.WatchAlert).Select(c => c.Name).Order(StringComparer.Ordinal));
    }
}
