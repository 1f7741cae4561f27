using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// Turns socket-table records into listeners: LISTEN sockets grouped by local address with their
/// accept queues and drops, and request sockets (SYN-RECV) counted against the listener they belong to.
/// The one place both the run's server sampler and watch read listeners, whatever dumps they take.
/// </summary>
internal static class ListenerTable
{
    /// <summary>
    /// The LISTEN sockets among <paramref name="records"/> that <paramref name="watched"/> accepts, grouped
    /// by local address (SO_REUSEPORT sockets on one address are summed); SYN-RECV counts start at 0.
    /// </summary>
    public static Dictionary<IpEndpoint, ListenerSample> Group(IEnumerable<SocketRecord> records, Func<IpEndpoint, bool> watched)
    {
        var groups = new Dictionary<IpEndpoint, ListenerSample>();
        foreach (var record in records)
        {
            if (record.State != TcpState.Listen || !watched(record.Local))
                continue;
            groups[record.Local] = groups.TryGetValue(record.Local, out var group)
                ? group with
                {
                    Sockets = group.Sockets + 1,
                    AcceptQueue = group.AcceptQueue + record.ReceiveQueue,
                    AcceptQueueLimit = group.AcceptQueueLimit + record.SendQueue,
                    Drops = group.Drops + record.Drops,
                }
                : new ListenerSample(record.Local, 1, record.ReceiveQueue, record.SendQueue, 0, 0, record.Drops, 0);
        }
        return groups;
    }

    /// <summary>Adds each request socket (SYN-RECV) among <paramref name="records"/> to its listener's counts; one without a listener in <paramref name="groups"/> is ignored.</summary>
    public static void CountRequests(Dictionary<IpEndpoint, ListenerSample> groups, IEnumerable<SocketRecord> records)
    {
        foreach (var record in records)
        {
            if (record.State != TcpState.SynRecv || OwnerOf(record.Local, groups) is not { } owner)
                continue;
            var group = groups[owner];
            groups[owner] = group with
            {
                SynRecv = group.SynRecv + 1,
                SynRecvResending = group.SynRecvResending + (record.Retransmits > 0 ? 1 : 0),
            };
        }
    }

    /// <summary>
    /// The listener a request socket belongs to: a request carries the address the SYN was sent to,
    /// so prefer a listener bound to exactly that address, then the wildcard of its family, then the
    /// IPv6 wildcard (a dual-stack listener also takes IPv4 connections).
    /// </summary>
    public static IpEndpoint? OwnerOf(IpEndpoint local, IReadOnlyDictionary<IpEndpoint, ListenerSample> listeners)
    {
        if (listeners.ContainsKey(local))
            return local;
        var familyWildcard = local.IsV6 ? new IpEndpoint(0, local.Port, true) : IpEndpoint.FromV4([0, 0, 0, 0], local.Port);
        if (listeners.ContainsKey(familyWildcard))
            return familyWildcard;
        var dualStack = new IpEndpoint(0, local.Port, true);
        return !local.IsV6 && listeners.ContainsKey(dualStack) ? dualStack : null;
    }
}
