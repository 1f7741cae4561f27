namespace Halfway.Tests.Watch;

/// <summary>User errors end the real command with one line on stderr and a non-zero exit, before it reads anything.</summary>
public sealed class WatchCliErrorTests
{
    [Theory]
    [InlineData(new[] { "70000" }, "halfway: bad port '70000'")]
    [InlineData(new[] { "1.2.3:80" }, "halfway: bad address '1.2.3'")]
    [InlineData(new[] { "--interval", "soon" }, "halfway: bad interval 'soon'")]
    [InlineData(new[] { "--netns", "/nonexistent/ns", "--once" }, "halfway: cannot enter network namespace /nonexistent/ns: ENOENT")]
    [InlineData(new[] { "--netns", "/proc/self/status", "--once" }, "halfway: cannot enter network namespace /proc/self/status: EINVAL")]
    [InlineData(new[] { "--once", "--prometheus", "9464" }, "halfway: --once and --prometheus cannot be combined")]
    [InlineData(new[] { "--prometheus", "[::1]x" }, "halfway: bad --prometheus address")]
    public void A_user_error_is_one_line_and_a_non_zero_exit(string[] arguments, string expected)
    {
        var (exitCode, output, errors) = WatchCli.Run(arguments, TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, exitCode);
        Assert.Equal("", output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expected, line);
    }

    [Fact]
    public void Help_lists_every_option()
    {
        var (exitCode, output, _) = WatchCli.Run(["--help"], TimeSpan.FromSeconds(30));
        Assert.Equal(0, exitCode);
        foreach (var option in new[] { "--netns", "--interval", "--once", "--json", "--prometheus", "[ADDR:]PORT" })
            Assert.Contains(option, output);
    }
}
