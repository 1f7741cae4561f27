namespace Halfway.Runs;

/// <summary>The listener's accept queue at one moment, from the server host's socket table.</summary>
internal sealed record AcceptQueueSample(double AtMs, uint AcceptQueue, uint AcceptQueueLimit, int SynRecv, uint Drops);
