using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// Something observed about a connection, at a time in microseconds on the run's (or the capture's) clock.
/// The analysis engine does not know where an observation came from: a capture file gives only
/// packets; a lab run also gives socket calls, accepts and socket-table samples.
/// </summary>
public abstract record Observation(long AtMicroseconds);

/// <summary>
/// A TCP segment seen on the wire. On a lab link, <paramref name="DroppedByLink"/> says the link dropped it
/// (the receiver never saw it), <paramref name="DropReason"/> why it was not delivered (a drop's reason, or that it was
/// still in flight when the lab stopped), and <paramref name="DeliveredAtMicroseconds"/> when it reached the receiver.
/// </summary>
public sealed record PacketObservation(
    long AtMicroseconds,
    TcpSegment Segment,
    long FrameNumber,
    bool DroppedByLink = false,
    string? DropReason = null,
    long? DeliveredAtMicroseconds = null) : Observation(AtMicroseconds);

/// <summary>
/// A socket call of the client and what it returned (lab only). Step is connect, wait, send, receive,
/// close, shutdown or option; Result is ok, data, eof, reset, timeout, refused or error; Errno the
/// kernel's errno name or null.
/// </summary>
public sealed record ClientCallObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    string Step,
    string Result,
    string? Errno,
    string? Detail = null) : Observation(AtMicroseconds);

/// <summary>The server application's accept() returned this connection (lab only).</summary>
public sealed record ServerAcceptObservation(long AtMicroseconds, IpEndpoint Client, IpEndpoint Server) : Observation(AtMicroseconds);

/// <summary>
/// The server host's socket table changed for this connection (lab only, from sock_diag samples):
/// State is "SYN-RECV" (a request socket; Retransmits = SYN-ACKs it re-sent), "ESTABLISHED"
/// (a complete child, accepted or queued), another TCP state name, or "none" (the table no longer holds it).
/// </summary>
public sealed record ServerSocketObservation(
    long AtMicroseconds,
    IpEndpoint Client,
    IpEndpoint Server,
    string State,
    int Retransmits) : Observation(AtMicroseconds);
