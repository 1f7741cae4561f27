using System.Diagnostics;
using System.Net;
using Halfway.Native;
using Halfway.Observe;

namespace Halfway.Lab;

/// <summary>
/// A simulated host: a private network namespace owned by one dedicated OS thread. Kernel objects
/// (sockets, TUN and netlink fds, child processes) are created synchronously on that thread through
/// <see cref="Run{T}"/>; once created they may be used from any thread. The namespace vanishes with
/// the thread and the last fd, so a killed process leaves nothing behind.
/// </summary>
internal sealed class LabHost : IDisposable
{
    private readonly NamespaceWorkLoop _loop;
    private readonly List<IPAddress> _addresses = new();
    private int _threadId;
    private int _namespaceFd = -1;

    private LabHost(string name)
    {
        Name = name;
        Settings = new KernelSettings(this);
        _loop = new NamespaceWorkLoop($"halfway-host-{name}", TimeSpan.FromSeconds(10));
    }

    public string Name { get; }

    public KernelSettings Settings { get; }

    public IReadOnlyList<IPAddress> Addresses => _addresses;

    /// <summary>A path other processes can use to enter this host (nsenter --net=PATH) while it lives.</summary>
    public string NamespacePath => $"/proc/{Environment.ProcessId}/task/{_threadId}/ns/net";

    /// <summary>An fd of this host's namespace, kept open for the host's life, for setns().</summary>
    public int NamespaceFd => _namespaceFd;

    public static LabHost Create(string name)
    {
        LabPrivileges.Require();
        var host = new LabHost(name);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host._loop.Start(() => host.Enter(ready), host.Leave);
        try
        {
            if (!ready.Task.Wait(TimeSpan.FromSeconds(10)))
                throw new LabException($"host '{name}': its namespace thread did not start within 10 s");
            ready.Task.GetAwaiter().GetResult();
        }
        catch
        {
            host._loop.Complete();
            throw;
        }
        return host;
    }

    /// <summary>On the host's thread: a new namespace with lo up; false (and <paramref name="ready"/> faulted) when it cannot be made.</summary>
    private bool Enter(TaskCompletionSource ready)
    {
        try
        {
            if (Libc.unshare(Libc.CLONE_NEWNET) != 0)
                throw new LabException($"host '{Name}': could not create a network namespace: {Libc.Describe(Libc.LastError)}; run as root");
            _threadId = Libc.GetThreadId();
            _namespaceFd = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC);
            RtNetlink.SetLinkUp("lo");
            ready.SetResult();
            return true;
        }
        catch (Exception e)
        {
            ready.SetException(e);
            return false;
        }
    }

    private void Leave()
    {
        if (_namespaceFd >= 0)
            Libc.close(_namespaceFd);
    }

    /// <summary>Runs <paramref name="action"/> synchronously on this host's thread, inside its namespace (inline when called from that thread).</summary>
    public T Run<T>(Func<T> action) => _loop.Run(action);

    public void Run(Action action) => Run(() => { action(); return true; });

    /// <summary>Starts a child process inside this host's namespace.</summary>
    public Process StartProcess(ProcessStartInfo startInfo) =>
        Run(() => Process.Start(startInfo) ?? throw new LabException($"host '{Name}': could not start {startInfo.FileName}"));

    public void AddAddress(string interfaceName, IPAddress address, int prefixLength)
    {
        Run(() => RtNetlink.AddAddress(interfaceName, address, prefixLength));
        _addresses.Add(address);
    }

    public void SetLinkUp(string interfaceName, uint? transmitQueueLength = null) =>
        Run(() => RtNetlink.SetLinkUp(interfaceName, transmitQueueLength));

    /// <summary>Reads a file of /proc/thread-self/net (the namespace's view), e.g. "netstat".</summary>
    public string ReadProcNet(string file) => Run(() => File.ReadAllText($"/proc/thread-self/net/{file}"));

    public void Dispose() => _loop.Dispose();

    public override string ToString() => Name;
}
