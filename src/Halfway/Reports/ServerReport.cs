using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record ServerReport(int Accepted, double? FirstAcceptMs, double? LastAcceptMs, int MessagesReceived, int RepliesSent, int Resets,
    uint? MaxAcceptQueue, uint? AcceptQueueLimit, int? MaxSynRecv, bool SocketTableObserved)
{
    /// <summary>How the socket table was sampled: how many samples, how often, and what reading it cost.</summary>
    public SocketTableSamplingReport? Sampling { get; init; }
}
