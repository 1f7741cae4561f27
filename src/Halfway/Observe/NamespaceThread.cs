using Halfway.Native;

namespace Halfway.Observe;

/// <summary>
/// A dedicated OS thread that has entered another network namespace (setns), for reading it: sockets
/// made by <see cref="Run{T}"/> belong to that namespace and /proc/thread-self/net shows its view.
/// Entering changes nothing in the namespace; it needs CAP_SYS_ADMIN (root).
/// </summary>
internal sealed class NamespaceThread : IDisposable
{
    private readonly NamespaceWorkLoop _loop;

    private NamespaceThread(string path)
    {
        Path = path;
        _loop = new NamespaceWorkLoop("halfway-netns", TimeSpan.FromSeconds(5));
    }

    public string Path { get; }

    /// <summary>Starts the thread and enters the namespace at <paramref name="path"/>; a one-line <see cref="HalfwayException"/> when it cannot.</summary>
    public static NamespaceThread Enter(string path)
    {
        var thread = new NamespaceThread(path);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        thread._loop.Start(() => thread.EnterOnThread(entered));
        // WaitAny does not throw: the thread's own one-line error is rethrown below as it is.
        if (Task.WaitAny([entered.Task], TimeSpan.FromSeconds(10)) < 0)
            throw new HalfwayException($"cannot enter network namespace {path}: the thread did not start within 10 s");
        if (entered.Task.Exception?.InnerException is { } failure)
        {
            thread._loop.Complete();
            throw failure;
        }
        return thread;
    }

    /// <summary>On the loop's thread: setns into <see cref="Path"/>; false (and <paramref name="entered"/> faulted) when it cannot.</summary>
    private bool EnterOnThread(TaskCompletionSource entered)
    {
        int fd = Libc.open(Path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            entered.SetException(new HalfwayException($"cannot enter network namespace {Path}: {Explain(Libc.LastError)}"));
            return false;
        }
        int result = Libc.setns(fd, Libc.CLONE_NEWNET);
        int error = Libc.LastError;
        Libc.close(fd);
        if (result != 0)
        {
            entered.SetException(new HalfwayException($"cannot enter network namespace {Path}: {Explain(error)}"));
            return false;
        }
        entered.SetResult();
        return true;
    }

    private static string Explain(int errno) => errno switch
    {
        2 => $"{Libc.Describe(errno)}; give a /proc/PID/ns/net or /run/netns/NAME path",
        1 or 13 => $"{Libc.Describe(errno)}; entering another network namespace needs root (CAP_SYS_ADMIN) and ptrace access to a process in it",
        22 => $"{Libc.Describe(errno)}; the path is not a network namespace",
        _ => Libc.Describe(errno),
    };

    /// <summary>Runs <paramref name="action"/> synchronously on the thread inside the namespace (inline when called from that thread).</summary>
    public T Run<T>(Func<T> action) => _loop.Run(action);

    public void Dispose() => _loop.Dispose();
}
