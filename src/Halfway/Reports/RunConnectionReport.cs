using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record RunConnectionReport
{
    public required int Id { get; init; }
    public required string? Client { get; init; }
    public required string Server { get; init; }
    public required double? ConnectedAtMs { get; init; }
    public required double? AcceptedAtMs { get; init; }
    public required List<StepReport> Steps { get; init; }
    public required string Fate { get; init; }
    public required bool HalfEstablished { get; init; }
    public required string? Kind { get; init; }
    /// <summary>The events that decided the fate, as indices into <see cref="Timeline"/> (each is one of its rows).</summary>
    public required List<int> Evidence { get; init; }
    public required List<TimelineReport> Timeline { get; init; }
    /// <summary>When the server's kernel held the connection complete (ms; null: never, as far as the evidence shows).</summary>
    public double? ServerCompletedAtMs { get; init; }
    /// <summary>The client's SYNs the client kernel sent again before an answer (each one second or more of connect time).</summary>
    public int SynResends { get; init; }
    /// <summary>The first RST of the connection on the wire (ms), and who sent it ("server" or "client"); null: none.</summary>
    public double? FirstRstAtMs { get; init; }
    public string? FirstRstFrom { get; init; }
    /// <summary>The client's socket was still open when the run ended: the fate is the state at that moment.</summary>
    public bool OpenAtEnd { get; init; }
    /// <summary>The server kernel's word about this connection; null when its witness did not run or said nothing of it.</summary>
    public ConnectionKernelReport? Kernel { get; init; }

    /// <summary>A client program's socket in the client host's table at each change (null for the built-in client, whose calls are known).</summary>
    public List<ClientSocketReport>? ClientSocket { get; init; }
}

/// <summary>The client kernel's state of a client program's socket from <see cref="AtMs"/> on ("gone": no longer in its table).</summary>
internal sealed record ClientSocketReport(double AtMs, string State);
