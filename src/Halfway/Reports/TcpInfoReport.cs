using System.Text.Json;
using System.Text.Json.Serialization;

namespace Halfway.Reports;

/// <summary>The client socket's TCP_INFO right after a step; in report.json an array in this order (see docs/report-schema.md).</summary>
[JsonConverter(typeof(TcpInfoReportConverter))]
internal sealed record TcpInfoReport(string State, int Retransmits, int Probes, int Backoff, double RtoMs, int Unacked, double RttMs, int TotalRetransmissions);

/// <summary>Writes <see cref="TcpInfoReport"/> as <c>[state, retransmits, probes, backoff, rto_ms, unacked, rtt_ms, total_retransmissions]</c>.</summary>
internal sealed class TcpInfoReportConverter : JsonConverter<TcpInfoReport>
{
    public override TcpInfoReport Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var a = document.RootElement;
        return new TcpInfoReport(a[0].GetString()!, a[1].GetInt32(), a[2].GetInt32(), a[3].GetInt32(), a[4].GetDouble(), a[5].GetInt32(), a[6].GetDouble(), a[7].GetInt32());
    }

    public override void Write(Utf8JsonWriter writer, TcpInfoReport value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(value.State);
        writer.WriteNumberValue(value.Retransmits);
        writer.WriteNumberValue(value.Probes);
        writer.WriteNumberValue(value.Backoff);
        writer.WriteNumberValue(value.RtoMs);
        writer.WriteNumberValue(value.Unacked);
        writer.WriteNumberValue(value.RttMs);
        writer.WriteNumberValue(value.TotalRetransmissions);
        writer.WriteEndArray();
    }
}
