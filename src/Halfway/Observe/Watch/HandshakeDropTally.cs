namespace Halfway.Observe.Watch;

/// <summary>
/// Counts the kernel witness's drops per listener and reason for `halfway watch`. Events arrive on the witness's thread;
/// each sample takes the interval's figures. Memory is bounded: a few clients per listener and reason, the rest counted.
/// </summary>
internal sealed class HandshakeDropTally
{
    public const int RecentClients = 8;

    private sealed class Entry
    {
        public long Total;
        public long Delta;
        public readonly Queue<string> Recent = new();
    }

    private readonly Dictionary<(string Listener, string Reason), Entry> _entries = new();

    /// <summary>Counts a drop that a listener's kernel made (one with the listener's state); other events are not handshake drops.</summary>
    public void Add(KernelEventObservation e)
    {
        if (e is not { Kind: KernelEventKind.PacketDropped, Listener: { } listener })
            return;
        var key = (listener.Listener.ToString(), e.Reason ?? "no reason");
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out var entry))
                _entries[key] = entry = new Entry();
            entry.Total++;
            entry.Delta++;
            entry.Recent.Enqueue(e.Client.ToString());
            if (entry.Recent.Count > RecentClients)
                entry.Recent.Dequeue();
        }
    }

    /// <summary>Every listener and reason seen so far, with what the interval since the last call added.</summary>
    public IReadOnlyList<HandshakeDrops> TakeInterval()
    {
        lock (_entries)
        {
            var result = _entries.OrderBy(kv => kv.Key.Listener, StringComparer.Ordinal).ThenBy(kv => kv.Key.Reason, StringComparer.Ordinal)
                .Select(kv => new HandshakeDrops(kv.Key.Listener, kv.Key.Reason, kv.Value.Total, kv.Value.Delta, kv.Value.Recent.ToList(),
                    kv.Value.Delta - kv.Value.Recent.Count))
                .ToList();
            foreach (var entry in _entries.Values)
            {
                entry.Delta = 0;
                entry.Recent.Clear();
            }
            return result;
        }
    }
}
