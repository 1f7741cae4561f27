using System.Collections.Concurrent;

namespace Halfway.Observe;

/// <summary>
/// The work loop of a dedicated OS thread that lives in one network namespace: the thread first enters or
/// creates the namespace, then runs queued work one item at a time until completed. Lab hosts and
/// <see cref="NamespaceThread"/> both use it, because work that creates kernel objects must run on that
/// thread (a socket belongs to its creator's namespace), and work already on that thread — a sampler's
/// first sample, a callback — must run inline: queueing it behind itself would wait forever.
/// </summary>
internal sealed class NamespaceWorkLoop : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly TimeSpan _joinTimeout;
    private Func<bool>? _enter;
    private Action? _leave;

    /// <summary>The thread is a background thread: a namespace left behind must not keep the process alive.</summary>
    public NamespaceWorkLoop(string threadName, TimeSpan joinTimeout)
    {
        _joinTimeout = joinTimeout;
        _thread = new Thread(Loop) { IsBackground = true, Name = threadName };
    }

    /// <summary>
    /// Starts the thread. It runs <paramref name="enter"/> first; when that returns false (it has reported its own
    /// failure) the thread ends without taking work. <paramref name="leave"/> runs on the thread after the last item.
    /// </summary>
    public void Start(Func<bool> enter, Action? leave = null)
    {
        _enter = enter;
        _leave = leave;
        _thread.Start();
    }

    /// <summary>True on the loop's own thread.</summary>
    public bool IsCurrentThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    private void Loop()
    {
        if (!_enter!())
            return;
        foreach (var action in _work.GetConsumingEnumerable())
            action();
        _leave?.Invoke();
    }

    /// <summary>Runs <paramref name="action"/> synchronously on the loop's thread: inline when already on it.</summary>
    public T Run<T>(Func<T> action)
    {
        if (IsCurrentThread)
            return action();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(action()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    /// <summary>No more work: the thread ends once the queued items have run.</summary>
    public void Complete()
    {
        if (!_work.IsAddingCompleted)
            _work.CompleteAdding();
    }

    public void Dispose()
    {
        Complete();
        if (_thread.IsAlive && !IsCurrentThread)
            _thread.Join(_joinTimeout);
    }
}
