using System.Net;
using Halfway.Observe.Watch;

namespace Halfway.Tests.Watch;

public sealed class WatchParsingTests
{
    [Theory]
    [InlineData("8080", null, 8080)]
    [InlineData("0.0.0.0:8080", "0.0.0.0", 8080)]
    [InlineData("127.0.0.1:1", "127.0.0.1", 1)]
    [InlineData("[::]:65535", "::", 65535)]
    [InlineData("[::1]:443", "::1", 443)]
    [InlineData(":22", null, 22)]
    public void Listener_targets_parse(string text, string? address, int port)
    {
        var target = WatchTarget.Parse(text);
        Assert.Equal(address is null ? null : IPAddress.Parse(address), target.Address);
        Assert.Equal(port, target.Port);
    }

    [Theory]
    [InlineData("0", "bad port")]
    [InlineData("70000", "bad port")]
    [InlineData("http", "bad port")]
    [InlineData("1.2.3:80", "bad address '1.2.3'")]
    [InlineData("localhost:80", "bad address")]
    [InlineData("::1:80", "brackets")]
    [InlineData("[::1]80", "[ADDR]:PORT")]
    [InlineData("", "empty")]
    public void Bad_listener_targets_are_user_errors_that_say_what_is_wrong(string text, string expected)
    {
        var error = Assert.Throws<HalfwayException>(() => WatchTarget.Parse(text));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("1", 1000)]
    [InlineData("0.5", 500)]
    [InlineData("2s", 2000)]
    [InlineData("250ms", 250)]
    public void Intervals_parse(string text, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), WatchInterval.Parse(text));

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("10ms")]
    [InlineData("2h")]
    [InlineData("soon")]
    [InlineData("7200")]
    public void Bad_intervals_are_user_errors(string text) =>
        Assert.Contains("bad interval", Assert.Throws<HalfwayException>(() => WatchInterval.Parse(text)).Message);

    [Fact]
    public void Prometheus_binds_to_loopback_unless_an_address_is_given()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9464), PrometheusEndpoint.ParseAddress("9464"));
        Assert.Equal(new IPEndPoint(IPAddress.Any, 9464), PrometheusEndpoint.ParseAddress("0.0.0.0:9464"));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9464), PrometheusEndpoint.ParseAddress("[::1]:9464"));
        Assert.Throws<HalfwayException>(() => PrometheusEndpoint.ParseAddress("9464x"));
    }

    [Fact]
    public void A_target_with_an_address_matches_that_address_or_the_wildcard_that_takes_its_connections()
    {
        var any = Halfway.Wire.IpEndpoint.From(new IPEndPoint(IPAddress.Any, 8080));
        var loopback = Halfway.Wire.IpEndpoint.From(new IPEndPoint(IPAddress.Loopback, 8080));
        Assert.True(WatchTarget.Parse("8080").Matches(any));
        Assert.True(WatchTarget.Parse("127.0.0.1:8080").Matches(loopback));
        Assert.True(WatchTarget.Parse("127.0.0.1:8080").Matches(any));
        Assert.False(WatchTarget.Parse("127.0.0.2:8080").Matches(loopback));
        Assert.False(WatchTarget.Parse("[::1]:8080").Matches(any));
        Assert.False(WatchTarget.Parse("8081").Matches(loopback));
    }
}
