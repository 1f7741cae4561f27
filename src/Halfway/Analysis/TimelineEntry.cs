namespace Halfway.Analysis;

/// <summary>One line of a connection's timeline: a packet, a client call, or a server event, at a time (µs).</summary>
internal sealed record TimelineEntry(long AtMicroseconds, TimelineColumn Column, string Text);
