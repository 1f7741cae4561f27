using Halfway.Lab;

namespace Halfway.Traffic;

/// <summary>
/// Cancellation for steps with a timeout. A burst starts thousands of identical steps within milliseconds; a linked
/// token source and a timer for each cost more than the calls they bound, so steps whose deadlines fall in the same
/// millisecond share one source. A deadline is rounded up to the next whole millisecond: no step ends early.
/// </summary>
internal sealed class StepDeadlines(LabClock clock, CancellationToken runBound) : IDisposable
{
    private readonly Dictionary<long, CancellationTokenSource> _byMillisecond = new();
    private readonly object _gate = new();
    private bool _disposed;

    public CancellationToken TokenFor(TimeSpan timeout)
    {
        double now = clock.NowMilliseconds;
        long deadline = (long)Math.Ceiling(now + timeout.TotalMilliseconds);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_byMillisecond.TryGetValue(deadline, out var source))
            {
                source = CancellationTokenSource.CreateLinkedTokenSource(runBound);
                source.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(0, deadline - now)));
                _byMillisecond.Add(deadline, source);
            }
            return source.Token;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var source in _byMillisecond.Values)
                source.Dispose();
            _byMillisecond.Clear();
        }
    }
}
