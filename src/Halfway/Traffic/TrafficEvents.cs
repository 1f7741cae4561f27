using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Traffic;

/// <summary>One client step's outcome. Errno: the kernel's errno name when a call failed, else null.</summary>
public sealed record StepResult(
    int Index,
    ClientStep Step,
    CallResult Result,
    string? Errno,
    double AtMs,
    double DurationMs,
    string? Detail,
    TcpInfo? Info);

/// <summary>One client connection: its addresses and every step's result.</summary>
public sealed class ClientConnection(int id, IpEndpoint server)
{
    public int Id { get; } = id;
    public IpEndpoint Server { get; } = server;
    public IpEndpoint? Local { get; set; }
    public double? ConnectStartedAtMs { get; set; }
    public double? ConnectedAtMs { get; set; }
    public List<StepResult> Steps { get; } = new();
    public bool Finished { get; set; }
}

/// <summary>What the server application did with one connection: accepted, received, replied, closed, reset.</summary>
public sealed record ServerEvent(ServerEventKind Kind, IpEndpoint Client, IpEndpoint Local, double AtMs, int Bytes, string? Detail = null);
