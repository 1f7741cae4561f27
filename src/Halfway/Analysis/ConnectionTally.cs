using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// Connections only counted, added up per listener by one shard of a split analysis on its own thread, and handed to
/// the sink at the end (<see cref="IConnectionSink.AddTally"/>): once the sink says the order of its counts no longer
/// matters (<see cref="IConnectionSink.CountsCommute"/>), a plainly accepted connection costs the shard two increments
/// instead of a place in the queue that the calling thread merges.
/// </summary>
internal sealed class ConnectionTally
{
    private readonly Dictionary<IpEndpoint, ListenerSummary> _listeners = new();
    private ListenerSummary? _last;

    public long Connections { get; private set; }
    public long HalfEstablished { get; private set; }
    public IEnumerable<ListenerSummary> Listeners => _listeners.Values;

    public void Count(in ConnectionSummary summary)
    {
        Connections++;
        if (summary.HalfEstablished)
            HalfEstablished++;
        var server = summary.Server;
        if (_last is null || _last.Server != server)
        {
            if (!_listeners.TryGetValue(server, out _last))
                _listeners[server] = _last = new ListenerSummary(server);
        }
        _last.Count(summary);
    }
}
