namespace Halfway.Reports;

/// <summary>
/// Every sample of the server's socket table, as columns (one entry per sample, same index in each list): when,
/// the listener's accept queue, the request sockets in SYN-RECV, and the listener's drop count so far.
/// </summary>
internal sealed record ServerOverTimeReport(List<double> AtMs, List<uint> AcceptQueue, List<int> SynRecv, List<uint> Drops, uint? AcceptQueueLimit);
