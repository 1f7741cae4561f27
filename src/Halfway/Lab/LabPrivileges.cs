using System.Globalization;

namespace Halfway.Lab;

/// <summary>Checks, before anything is created, that this process may build a lab.</summary>
internal static class LabPrivileges
{
    private const int CapNetAdmin = 12;
    private const int CapSysAdmin = 21;

    /// <summary>Null when the process holds what a lab needs; otherwise one line naming what is missing.</summary>
    public static string? Missing()
    {
        ulong effective = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                effective = ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        var missing = new List<string>();
        if ((effective & (1UL << CapSysAdmin)) == 0) missing.Add("CAP_SYS_ADMIN (to create private network namespaces)");
        if ((effective & (1UL << CapNetAdmin)) == 0) missing.Add("CAP_NET_ADMIN (to create TUN devices and set kernel settings)");
        return missing.Count == 0 ? null : $"the lab needs {string.Join(" and ", missing)}: run as root";
    }

    public static void Require()
    {
        if (Missing() is { } message)
            throw new LabException(message);
    }
}
