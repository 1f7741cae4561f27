namespace Halfway.Observe;

/// <summary>One namespace counter (nstat name, e.g. TcpExtListenOverflows): its value and its change over the interval.</summary>
internal sealed record CounterSample(string Name, long Value, long Delta, double PerSecond)
{
    /// <summary>The name without its group, as /proc/net/netstat spells it (ListenOverflows).</summary>
    public string ShortName => CounterCatalogue.ShortName(Name);
}
