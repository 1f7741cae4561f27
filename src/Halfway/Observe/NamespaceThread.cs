using System.Collections.Concurrent;
using Halfway.Native;

namespace Halfway.Observe;

/// <summary>
/// A dedicated OS thread that has entered another network namespace (setns), for reading it: sockets
/// made by <see cref="Run{T}"/> belong to that namespace and /proc/thread-self/net shows its view.
/// Entering changes nothing in the namespace; it needs CAP_SYS_ADMIN (root).
/// </summary>
public sealed class NamespaceThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    private NamespaceThread(string path)
    {
        Path = path;
        _thread = new Thread(Loop) { IsBackground = true, Name = "halfway-netns" };
    }

    public string Path { get; }

    /// <summary>Starts the thread and enters the namespace at <paramref name="path"/>; a one-line <see cref="HalfwayException"/> when it cannot.</summary>
    public static NamespaceThread Enter(string path)
    {
        var thread = new NamespaceThread(path);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        thread._thread.Start(entered);
        // WaitAny does not throw: the thread's own one-line error is rethrown below as it is.
        if (Task.WaitAny([entered.Task], TimeSpan.FromSeconds(10)) < 0)
            throw new HalfwayException($"cannot enter network namespace {path}: the thread did not start within 10 s");
        if (entered.Task.Exception?.InnerException is { } failure)
        {
            thread._work.CompleteAdding();
            throw failure;
        }
        return thread;
    }

    private void Loop(object? state)
    {
        var entered = (TaskCompletionSource)state!;
        int fd = Libc.open(Path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            entered.SetException(new HalfwayException($"cannot enter network namespace {Path}: {Explain(Libc.LastError)}"));
            return;
        }
        int result = Libc.setns(fd, Libc.CLONE_NEWNET);
        int error = Libc.LastError;
        Libc.close(fd);
        if (result != 0)
        {
            entered.SetException(new HalfwayException($"cannot enter network namespace {Path}: {Explain(error)}"));
            return;
        }
        entered.SetResult();
        foreach (var action in _work.GetConsumingEnumerable())
            action();
    }

    private static string Explain(int errno) => errno switch
    {
        2 => $"{Libc.Describe(errno)}; give a /proc/PID/ns/net or /run/netns/NAME path",
        1 or 13 => $"{Libc.Describe(errno)}; entering another network namespace needs root (CAP_SYS_ADMIN) and ptrace access to a process in it",
        22 => $"{Libc.Describe(errno)}; the path is not a network namespace",
        _ => Libc.Describe(errno),
    };

    /// <summary>Runs <paramref name="action"/> synchronously on the thread inside the namespace.</summary>
    public T Run<T>(Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(action()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        if (!_work.IsAddingCompleted)
            _work.CompleteAdding();
        if (_thread.IsAlive && Environment.CurrentManagedThreadId != _thread.ManagedThreadId)
            _thread.Join(TimeSpan.FromSeconds(5));
    }
}
