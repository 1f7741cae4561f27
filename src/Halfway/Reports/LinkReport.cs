using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Halfway.Reports;

internal sealed record LinkReport(double DelayClientToServerMs, double DelayServerToClientMs, double Loss, long PacketsSeen, long PacketsDropped, long PacketsInFlight, List<string> DropRules);
