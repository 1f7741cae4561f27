using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Halfway.Native;

namespace Halfway.Lab;

/// <summary>
/// A simulated host: a private network namespace owned by one dedicated OS thread. Kernel objects
/// (sockets, TUN and netlink fds, child processes) are created synchronously on that thread through
/// <see cref="Run{T}"/>; once created they may be used from any thread. The namespace vanishes with
/// the thread and the last fd, so a killed process leaves nothing behind.
/// </summary>
public sealed class LabHost : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly List<IPAddress> _addresses = new();
    private int _threadId;
    private int _namespaceFd = -1;

    private LabHost(string name)
    {
        Name = name;
        Settings = new KernelSettings(this);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"halfway-host-{name}" };
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
        host._thread.Start(ready);
        try
        {
            if (!ready.Task.Wait(TimeSpan.FromSeconds(10)))
                throw new LabException($"host '{name}': its namespace thread did not start within 10 s");
            ready.Task.GetAwaiter().GetResult();
        }
        catch
        {
            host._work.CompleteAdding();
            throw;
        }
        return host;
    }

    private void Loop(object? state)
    {
        var ready = (TaskCompletionSource)state!;
        try
        {
            if (Libc.unshare(Libc.CLONE_NEWNET) != 0)
                throw new LabException($"host '{Name}': could not create a network namespace: {Libc.Describe(Libc.LastError)}; run as root");
            _threadId = Libc.GetThreadId();
            _namespaceFd = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC);
            RtNetlink.SetLinkUp("lo");
            ready.SetResult();
        }
        catch (Exception e)
        {
            ready.SetException(e);
            return;
        }
        foreach (var action in _work.GetConsumingEnumerable())
            action();
        if (_namespaceFd >= 0)
            Libc.close(_namespaceFd);
    }

    /// <summary>Runs <paramref name="action"/> synchronously on this host's thread, inside its namespace.</summary>
    public T Run<T>(Func<T> action)
    {
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId)
            return action();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(action()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.GetAwaiter().GetResult();
    }

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

    public void Dispose()
    {
        if (!_work.IsAddingCompleted)
            _work.CompleteAdding();
        if (_thread.IsAlive && Environment.CurrentManagedThreadId != _thread.ManagedThreadId)
            _thread.Join(TimeSpan.FromSeconds(10));
    }

    public override string ToString() => Name;
}
