using System.Text.RegularExpressions;

namespace Halfway.Lab;

/// <summary>
/// The net.* sysctls of one lab host. Writes go through /proc/sys on the host's own thread, so
/// they apply to its namespace only; every write is read back and recorded as the value in force.
/// </summary>
internal sealed partial class KernelSettings
{
    private readonly LabHost _host;
    private readonly Dictionary<string, string> _written = new(StringComparer.Ordinal);

    internal KernelSettings(LabHost host) => _host = host;

    /// <summary>Settings written by the run, with the value the kernel holds after the write.</summary>
    public IReadOnlyDictionary<string, string> Written => _written;

    [GeneratedRegex(@"^net(\.[A-Za-z0-9_\-]+)+$")]
    private static partial Regex NamePattern();

    public string Read(string name)
    {
        string path = PathOf(name);
        return _host.Run(() =>
        {
            try
            {
                return Normalize(File.ReadAllText(path));
            }
            catch (FileNotFoundException)
            {
                throw Unknown(name);
            }
            catch (DirectoryNotFoundException)
            {
                throw Unknown(name);
            }
            catch (UnauthorizedAccessException)
            {
                throw new LabException($"kernel setting {name} on host '{_host.Name}' cannot be read");
            }
        });
    }

    public void Write(string name, string value)
    {
        string path = PathOf(name);
        string inForce = _host.Run(() =>
        {
            GuardNotHostNamespace(name);
            if (!File.Exists(path))
                throw Unknown(name);
            try
            {
                File.WriteAllText(path, value.Trim() + "\n");
            }
            catch (UnauthorizedAccessException)
            {
                throw new LabException($"kernel setting {name} on host '{_host.Name}' is read-only in a network namespace");
            }
            catch (IOException e)
            {
                throw new LabException($"kernel setting {name} on host '{_host.Name}': the kernel refused the value '{value}' ({e.Message.Trim()}); give a value the kernel accepts");
            }
            return Normalize(File.ReadAllText(path));
        });
        if (inForce != Normalize(value))
            throw new LabException($"kernel setting {name} on host '{_host.Name}': wrote '{value}' but the kernel holds '{inForce}'; give a value in the setting's range");
        _written[name] = inForce;
    }

    /// <summary>Reads each setting as it is now: the report's record of what was in force.</summary>
    public SortedDictionary<string, string> Snapshot(IEnumerable<string> names)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
            values[name] = Read(name);
        return values;
    }

    private LabException Unknown(string name) =>
        new($"unknown kernel setting {name} on host '{_host.Name}': no /proc/sys/{name.Replace('.', '/')} in its namespace (a setting that is not per network namespace cannot be changed in a lab)");

    private string PathOf(string name)
    {
        if (!NamePattern().IsMatch(name))
            throw new LabException($"'{name}' is not a kernel setting the lab can change on host '{_host.Name}': only net.* settings, e.g. net.ipv4.tcp_synack_retries");
        return "/proc/sys/" + name.Replace('.', '/');
    }

    private static string Normalize(string text) => Regex.Replace(text.Trim(), @"\s+", " ");

    /// <summary>A last guard: a write must never reach the host's own namespace.</summary>
    private void GuardNotHostNamespace(string name)
    {
        string mine = new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? "";
        string process = new FileInfo("/proc/self/ns/net").LinkTarget ?? "";
        if (mine.Length == 0 || mine == process)
            throw new LabException($"refusing to write {name}: host '{_host.Name}' is not in a private namespace");
    }
}
