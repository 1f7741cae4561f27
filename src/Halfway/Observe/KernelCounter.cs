namespace Halfway.Observe;

/// <summary>
/// One kernel counter the tool reports: its nstat name (group + field, e.g. TcpExtListenOverflows) and
/// what a rise means, in one line. <see cref="WatchAlert"/> marks the ones whose rise watch turns into an alert line.
/// </summary>
internal sealed record KernelCounter(string Name, string Meaning, bool WatchAlert = false)
{
    public string ShortName => CounterCatalogue.ShortName(Name);
}
