namespace Halfway.Analysis;

/// <summary>One typed event of a connection at a time (µs). <see cref="Value"/> depends on the kind (see <see cref="ConnectionEventKind"/>).</summary>
internal readonly record struct ConnectionEvent(ConnectionEventKind Kind, long AtMicroseconds, long Value = 0);
