using System.Text.Encodings.Web;
using System.Text.Json;
using Halfway.Analysis;

namespace Halfway.Reports;

/// <summary>The --json form of `halfway explain` (schema in docs/explain.md). Times are seconds: absolute (Unix) and relative to each connection's first event.</summary>
internal static class ExplainJsonWriter
{
    public const int SchemaVersion = 2;

    private const int FlushAtBytes = 64 * 1024;

    public static void Write(Stream stream, ExplainInput input, ExplainReport report, AnalysisContext context)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteNumber("schema_version", SchemaVersion);
        json.WriteStartArray("files");
        foreach (var file in input.Files)
            json.WriteStringValue(file);
        json.WriteEndArray();
        if (input.Read is { } read)
        {
            json.WriteNumber("frames", read.Frames);
            json.WriteNumber("tcp_packets", read.TcpPackets);
            json.WriteBoolean("damaged", read.Damaged);
        }
        json.WriteNumber("connections_total", report.Connections);
        json.WriteNumber("half_established_total", report.HalfEstablished);
        if (report.VantagePoint() is { } vantage)
            json.WriteString("capture_point", vantage);
        json.WriteNumber("capture_point_handshakes_used", report.HandshakesUsed);
        json.WriteNumber("capture_point_handshakes_left_out", report.HandshakesLeftOut);

        json.WriteStartArray("listeners");
        foreach (var listener in report.Listeners)
        {
            json.WriteStartObject();
            json.WriteString("server", listener.Server.ToString());
            json.WriteNumber("connections", listener.Connections);
            json.WriteNumber("half_established", listener.HalfEstablished);
            json.WriteNumber("half_established_certain", listener.Certain);
            json.WriteNumber("half_established_likely", listener.Likely);
            json.WriteStartObject("fates");
            foreach (var (fate, count) in listener.ByFate)
                json.WriteNumber(FateNames.Name(fate), count);
            json.WriteEndObject();
            json.WriteStartArray("likely_causes");
            foreach (var cause in report.LikelyCauses(listener))
            {
                json.WriteStartObject();
                json.WriteString("cause", cause.Name);
                json.WriteString("support", cause.SupportName);
                json.WriteString("evidence", cause.Evidence);
                json.WriteString("confirm_on_server", cause.Confirm);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("connections");
        foreach (var c in report.Kept)
        {
            WriteConnection(json, c);
            // The writer holds everything until flushed: tens of thousands of connections made a buffer of tens of MB
            // (grown by doubling, fresh memory) written out in one piece at the end.
            if (json.BytesPending >= FlushAtBytes)
                json.Flush();
        }
        json.WriteEndArray();
        json.WriteNumber("connections_not_listed", report.NotKept);

        json.WriteStartArray("warnings");
        foreach (var warning in input.Read?.Warnings ?? [])
        {
            json.WriteStartObject();
            json.WriteString("file", warning.File);
            json.WriteNumber("byte_offset", warning.ByteOffset);
            json.WriteString("message", warning.Message);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteConnection(Utf8JsonWriter json, ConnectionReport c)
    {
        long origin = c.FirstSeenAtMicroseconds;
        json.WriteStartObject();
        json.WriteString("client", c.Client.ToString());
        json.WriteString("server", c.Server.ToString());
        json.WriteString("fate", c.FateName);
        json.WriteBoolean("half_established", c.HalfEstablished);
        if (c.Kind is null) json.WriteNull("kind"); else json.WriteString("kind", c.Kind);
        if (c.Confidence is { } confidence)
        {
            json.WriteString("confidence", confidence.Name);
            json.WriteString("confidence_reason", confidence.Reason);
        }
        json.WriteString("reason", c.Reason);
        json.WriteNumber("first_seen", Seconds(c.FirstSeenAtMicroseconds));
        WriteOptional(json, "connected_at", c.ConnectedAtMicroseconds);
        WriteOptional(json, "server_completed_at", c.ServerCompletedAtMicroseconds);
        WriteOptional(json, "accepted_at", c.AcceptedAtMicroseconds);
        json.WriteNumber("packets", c.Packets);
        json.WriteNumber("syn_ack_resends", c.SynAckResends);
        json.WriteNumber("client_retransmissions", c.ClientRetransmissions);
        json.WriteNumber("duplicates_ignored", c.DuplicatesIgnored);
        json.WriteStartArray("evidence");
        foreach (var e in c.Evidence)
        {
            json.WriteStartObject();
            json.WriteNumber("t", Seconds(e.AtMicroseconds - origin));
            json.WriteString("event", EventText.KindName(e.Kind));
            json.WriteString("text", EventText.Sentence(e));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("timeline");
        foreach (var t in c.Timeline)
        {
            json.WriteStartObject();
            json.WriteNumber("t", Seconds(t.AtMicroseconds - origin));
            json.WriteString("column", t.Column switch
            {
                TimelineColumn.Client => "client",
                TimelineColumn.WireToServer => "to-server",
                TimelineColumn.WireToClient => "to-client",
                _ => "server",
            });
            json.WriteString("text", t.Text);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Microseconds as exact decimal seconds ("1.017188", never "1.4E-05").</summary>
    private static decimal Seconds(long micros) => micros / 1_000_000m;

    private static void WriteOptional(Utf8JsonWriter json, string name, long? micros)
    {
        if (micros is { } value)
            json.WriteNumber(name, Seconds(value));
        else
            json.WriteNull(name);
    }
}
