namespace Halfway.Observe;

/// <summary>
/// Something observed about a connection, at a time in microseconds on the run's (or the capture's) clock.
/// The analysis engine does not know where an observation came from: a capture file gives only
/// packets; a lab run also gives socket calls, accepts and socket-table samples.
/// </summary>
internal abstract record Observation(long AtMicroseconds);
