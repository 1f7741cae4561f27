namespace Halfway.Observe.Watch;

/// <summary>
/// Packets a listener's kernel dropped for one reason, as the witness heard them: in all since watch started, in the last
/// interval, and the interval's most recent clients (at most <see cref="HandshakeDropTally.RecentClients"/>; the rest counted).
/// </summary>
internal sealed record HandshakeDrops(string Listener, string Reason, long Total, long Delta, IReadOnlyList<string> Clients, long MoreClients);
