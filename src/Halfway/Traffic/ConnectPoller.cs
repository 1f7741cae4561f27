using System.Runtime.InteropServices;
using Halfway.Lab;
using Halfway.Native;
using Halfway.Observe;
using Halfway.Scenarios;

namespace Halfway.Traffic;

/// <summary>
/// Completes a client's non-blocking connects on one thread of its own: it waits on epoll for sockets to become
/// writable, reads each one's SO_ERROR, and enforces the connect step's timeout and the run's bound. A burst of
/// thousands of connects then costs what it costs a C client (a few syscalls each, harvested in batches) instead of a
/// .NET socket-engine operation and a thread-pool hop each, which made the tool's client the storm's bottleneck.
/// Completions are reported on the poller's thread.
/// </summary>
internal sealed unsafe class ConnectPoller : IDisposable
{
    public readonly record struct Outcome(CallResult Result, string? Errno, string? Detail)
    {
        public bool Ok => Result == CallResult.Ok;
    }

    private const int Idle = 0, Pending = 1, Done = 2;
    private const int BatchSize = 256;
    /// <summary>How late a connect timeout may fire, at most; also how often the run's bound is checked while connects are pending.</summary>
    private const int TimeoutResolutionMs = 5;
    private const int IdleWaitMs = 50;

    private readonly int _epoll;
    private readonly int[] _fds;
    private readonly int[] _states;
    private readonly TimeSpan?[] _timeouts;
    private readonly PriorityQueue<int, double> _deadlines = new();
    private readonly object _deadlinesGate = new();
    private readonly LabClock _clock;
    private readonly CancellationToken _runBound;
    private readonly Action<int, Outcome> _onDone;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private int _pending;
    private Outcome? _failure;

    /// <param name="fds">The sockets, by connection id; the poller never closes them.</param>
    /// <param name="onDone">Called once per started connect, with its id and outcome.</param>
    public ConnectPoller(int[] fds, LabClock clock, CancellationToken runBound, Action<int, Outcome> onDone)
    {
        _epoll = Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw new NativeException("epoll_create1", Libc.LastError);
        _fds = fds;
        _states = new int[fds.Length];
        _timeouts = new TimeSpan?[fds.Length];
        _clock = clock;
        _runBound = runBound;
        _onDone = onDone;
        _thread = new Thread(Poll) { IsBackground = true, Name = "halfway-connects" };
        _thread.Start();
    }

    /// <summary>
    /// Starts connection <paramref name="id"/>'s connect. Returns its outcome when the kernel decided at once (null when it
    /// is pending: the outcome then comes through the callback); <paramref name="beforeWatch"/> runs while it is pending,
    /// before the poller can report it.
    /// </summary>
    public Outcome? Start(int id, ReadOnlySpan<byte> address, TimeSpan? timeout, Action<int> beforeWatch)
    {
        int fd = _fds[id];
        int result;
        fixed (byte* to = address)
        {
            do
                result = Libc.connect(fd, to, address.Length);
            while (result != 0 && Libc.LastError == Libc.EINTR);
        }
        if (result == 0)
            return new Outcome(CallResult.Ok, null, null);
        int errno = Libc.LastError;
        if (errno != Libc.EINPROGRESS)
            return Failure(errno);
        beforeWatch(id);
        if (_failure is { } failure)
            return failure;
        _timeouts[id] = timeout;
        Interlocked.Increment(ref _pending);
        Volatile.Write(ref _states[id], Pending);
        // After the state: a deadline that expires is acted on only for a pending connect.
        if (timeout is { } limit)
        {
            lock (_deadlinesGate)
                _deadlines.Enqueue(id, _clock.NowMilliseconds + limit.TotalMilliseconds);
        }
        var watch = new Epoll.Event { Events = Epoll.EPOLLOUT | Epoll.EPOLLONESHOT, Data = (ulong)id };
        if (Epoll.epoll_ctl(_epoll, Epoll.EPOLL_CTL_ADD, fd, &watch) != 0)
        {
            int error = Libc.LastError;
            if (TryFinish(id))
                return new Outcome(CallResult.Error, Errno.Name(error), $"epoll_ctl: {Marshal.GetPInvokeErrorMessage(error)}");
        }
        return null;
    }

    /// <summary>The result a connect() failure gives, named as the kernel names it.</summary>
    public static Outcome Failure(int errno)
    {
        var result = errno switch
        {
            111 => CallResult.Refused,
            104 => CallResult.Reset,
            110 => CallResult.Timeout,
            _ => CallResult.Error,
        };
        return new Outcome(result, Errno.Name(errno), Marshal.GetPInvokeErrorMessage(errno));
    }

    private bool TryFinish(int id)
    {
        if (Interlocked.CompareExchange(ref _states[id], Done, Pending) != Pending)
            return false;
        Interlocked.Decrement(ref _pending);
        return true;
    }

    private void Poll()
    {
        var events = stackalloc Epoll.Event[BatchSize];
        try
        {
            while (!_stopping)
            {
                int n = Epoll.epoll_wait(_epoll, events, BatchSize, NextWaitMs());
                if (n < 0)
                {
                    int errno = Libc.LastError;
                    if (errno == Libc.EINTR)
                        continue;
                    throw new NativeException("epoll_wait", errno);
                }
                for (int i = 0; i < n; i++)
                    Complete((int)events[i].Data);
                if (_runBound.IsCancellationRequested)
                    EndAllPending(new Outcome(CallResult.Cancelled, null, "the run's duration bound was reached"));
                ExpireDeadlines();
            }
        }
        catch (Exception e)
        {
            // Nothing may be left waiting for a callback that will never come, now or later.
            _failure = new Outcome(CallResult.Error, null, $"the connect poller failed: {e.Message}");
            EndAllPending(_failure.Value);
        }
    }

    private int NextWaitMs()
    {
        if (Volatile.Read(ref _pending) == 0)
            return IdleWaitMs;
        lock (_deadlinesGate)
        {
            if (!_deadlines.TryPeek(out _, out double at))
                return IdleWaitMs;
            return (int)Math.Clamp(Math.Ceiling(at - _clock.NowMilliseconds), 0, TimeoutResolutionMs);
        }
    }

    private void Complete(int id)
    {
        if (!TryFinish(id))
            return;
        int fd = _fds[id];
        int error = 0, length = sizeof(int);
        if (Libc.getsockopt(fd, SocketOptionNumbers.SOL_SOCKET, SocketOptionNumbers.SO_ERROR, &error, &length) != 0)
            error = Libc.LastError;
        Epoll.epoll_ctl(_epoll, Epoll.EPOLL_CTL_DEL, fd, null);
        _onDone(id, error == 0 ? new Outcome(CallResult.Ok, null, null) : Failure(error));
    }

    private void ExpireDeadlines()
    {
        double now = _clock.NowMilliseconds;
        while (true)
        {
            int id;
            lock (_deadlinesGate)
            {
                if (!_deadlines.TryPeek(out id, out double at) || at > now)
                    return;
                _deadlines.Dequeue();
            }
            if (!TryFinish(id))
                continue;
            Epoll.epoll_ctl(_epoll, Epoll.EPOLL_CTL_DEL, _fds[id], null);
            _onDone(id, new Outcome(CallResult.Timeout, null, $"no result within {Durations.Format(_timeouts[id]!.Value)} (the step's timeout)"));
        }
    }

    private void EndAllPending(Outcome outcome)
    {
        for (int id = 0; id < _states.Length; id++)
        {
            if (Volatile.Read(ref _states[id]) != Pending || !TryFinish(id))
                continue;
            Epoll.epoll_ctl(_epoll, Epoll.EPOLL_CTL_DEL, _fds[id], null);
            _onDone(id, outcome);
        }
    }

    public void Dispose()
    {
        if (_stopping)
            return;
        _stopping = true;
        if (!_thread.Join(TimeSpan.FromSeconds(5)))
            return; // never close the epoll fd under a thread that may still use it
        Libc.close(_epoll);
    }
}
