using System.Globalization;

namespace Halfway.Observe;

/// <summary>
/// Parses the kernel's counter tables (/proc/net/netstat and /proc/net/snmp: a header line of
/// names followed by a line of values, per group) into nstat-style names, e.g. TcpExtListenOverflows.
/// </summary>
internal static class KernelCounters
{
    public static Dictionary<string, long> Parse(string text)
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            var names = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (names.Length < 2 || values.Length != names.Length || names[0] != values[0] || !names[0].EndsWith(':'))
                continue;
            string group = names[0].TrimEnd(':');
            for (int j = 1; j < names.Length; j++)
            {
                if (long.TryParse(values[j], NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
                    counters[group + names[j]] = value;
            }
            i++;
        }
        return counters;
    }

    /// <summary>Reads the counters of the calling thread's network namespace.</summary>
    public static Dictionary<string, long> ReadCurrentNamespace()
    {
        var counters = Parse(File.ReadAllText("/proc/thread-self/net/netstat"));
        foreach (var (name, value) in Parse(File.ReadAllText("/proc/thread-self/net/snmp")))
            counters[name] = value;
        return counters;
    }

    /// <summary>Reads only /proc/thread-self/net/netstat (TcpExt, IpExt, ...) of the calling thread's namespace: cheaper when snmp is not needed.</summary>
    public static Dictionary<string, long> ReadCurrentNamespaceNetstat() => Parse(File.ReadAllText("/proc/thread-self/net/netstat"));

    public static Dictionary<string, long> Delta(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after)
    {
        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, value) in after)
            delta[name] = value - before.GetValueOrDefault(name);
        return delta;
    }
}
