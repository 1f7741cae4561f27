using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// Where <see cref="ServerTableSampler"/> records what it saw. Calls come from the sampling thread, one
/// sample at a time (never concurrently), in time order.
/// </summary>
internal interface IServerTableSink
{
    /// <summary>A connection's server-side socket is new, changed state or retransmit count, or vanished (state null).</summary>
    void SocketChanged(long atMicroseconds, IpEndpoint client, IpEndpoint server, TcpState? state, int retransmits);

    /// <summary>
    /// A connection's socket appeared in a sample with an inode for the first time: a file refers to it, so an application
    /// accepted it at or before <paramref name="atMicroseconds"/> (a child still in the accept queue has inode 0).
    /// </summary>
    void SocketOwned(long atMicroseconds, IpEndpoint client, IpEndpoint server)
    {
    }

    /// <summary>The watched listener at one sample: its accept queue, the limit, its request sockets and its drop count.</summary>
    void ListenerSampled(double atMilliseconds, uint acceptQueue, uint acceptQueueLimit, int synRecv, uint drops);

    /// <summary>A sample was taken at <paramref name="atMicroseconds"/>; <paramref name="cpuTime"/> is what it cost the sampling thread.</summary>
    void Sampled(long atMicroseconds, TimeSpan cpuTime);
}
