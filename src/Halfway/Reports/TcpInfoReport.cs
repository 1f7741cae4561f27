using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record TcpInfoReport(string State, int Retransmits, int Probes, int Backoff, double RtoMs, int Unacked, double RttMs, int TotalRetransmissions);
