using System.Text.Encodings.Web;
using System.Text.Json;
using Halfway.Analysis;

namespace Halfway.Reports;

/// <summary>The --json form of `halfway explain` (schema in docs/explain.md), on one line. Times are seconds: <c>first_seen</c> absolute (Unix), the rest relative to each connection's first event.</summary>
internal static class ExplainJsonWriter
{
    public const int SchemaVersion = 3;

    private const int FlushAtBytes = 64 * 1024;

    public static void Write(Stream stream, ExplainInput input, ExplainReport report, AnalysisContext context)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
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

    /// <summary>
    /// One connection. Its timeline rows are <c>[t, where, text]</c> (the run report's rows), and its evidence is the
    /// indices of the rows that decided the fate, not a second copy of them. Times are seconds since its first event,
    /// but for <c>first_seen</c> (Unix seconds).
    /// </summary>
    public static void WriteConnection(Utf8JsonWriter json, ConnectionReport c)
    {
        long origin = c.FirstSeenAtMicroseconds;
        json.WriteStartObject();
        json.WriteString(ClientName, c.Client.ToString());
        json.WriteString(ServerName, c.Server.ToString());
        json.WriteString(FateName, c.FateName);
        json.WriteBoolean(HalfEstablishedName, c.HalfEstablished);
        if (c.Kind is null) json.WriteNull(KindName); else json.WriteString(KindName, c.Kind);
        if (c.Confidence is { } confidence)
        {
            json.WriteString(ConfidenceName, confidence.Name);
            json.WriteString(ConfidenceReasonName, confidence.Reason);
        }
        json.WriteString(ReasonName, c.Reason);
        json.WriteNumber(FirstSeenName, Seconds(origin));
        WriteOptional(json, ConnectedAtName, c.ConnectedAtMicroseconds, origin);
        WriteOptional(json, ServerCompletedAtName, c.ServerCompletedAtMicroseconds, origin);
        if (c.AcceptedAtMicroseconds is not null)
            WriteOptional(json, AcceptedAtName, c.AcceptedAtMicroseconds, origin);
        json.WriteNumber(PacketsName, c.Packets);
        json.WriteNumber(SynAckResendsName, c.SynAckResends);
        json.WriteNumber(ClientRetransmissionsName, c.ClientRetransmissions);
        if (c.DuplicatesIgnored != 0)
            json.WriteNumber(DuplicatesIgnoredName, c.DuplicatesIgnored);
        if (c.Facts.SilenceAtEnd is { } silence)
            json.WriteNumber(SilentAtEndName, Seconds(silence));
        var timeline = c.Timeline;
        json.WriteStartArray(TimelineName);
        foreach (var t in timeline)
        {
            json.WriteStartArray();
            json.WriteNumberValue(Seconds(t.AtMicroseconds - origin));
            json.WriteStringValue(t.Column switch
            {
                TimelineColumn.Client => ClientColumn,
                TimelineColumn.WireToServer => WireToServerColumn,
                TimelineColumn.WireToClient => WireToClientColumn,
                _ => ServerColumn,
            });
            json.WriteStringValue(t.Text);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray(EvidenceName);
        foreach (int row in ReportBuilder.EvidenceRows(c.Evidence, timeline))
            json.WriteNumberValue(row);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    // Encoded once: every connection writes these names.
    private static readonly JsonEncodedText ClientName = JsonEncodedText.Encode("client"), ServerName = JsonEncodedText.Encode("server"),
        FateName = JsonEncodedText.Encode("fate"), HalfEstablishedName = JsonEncodedText.Encode("half_established"), KindName = JsonEncodedText.Encode("kind"),
        ConfidenceName = JsonEncodedText.Encode("confidence"), ConfidenceReasonName = JsonEncodedText.Encode("confidence_reason"),
        ReasonName = JsonEncodedText.Encode("reason"), FirstSeenName = JsonEncodedText.Encode("first_seen"), ConnectedAtName = JsonEncodedText.Encode("connected_at"),
        ServerCompletedAtName = JsonEncodedText.Encode("server_completed_at"), AcceptedAtName = JsonEncodedText.Encode("accepted_at"),
        PacketsName = JsonEncodedText.Encode("packets"), SynAckResendsName = JsonEncodedText.Encode("syn_ack_resends"),
        ClientRetransmissionsName = JsonEncodedText.Encode("client_retransmissions"), DuplicatesIgnoredName = JsonEncodedText.Encode("duplicates_ignored"),
        SilentAtEndName = JsonEncodedText.Encode("silent_at_end"), TimelineName = JsonEncodedText.Encode("timeline"), EvidenceName = JsonEncodedText.Encode("evidence"),
        ClientColumn = JsonEncodedText.Encode(TimelineReport.Client), WireToServerColumn = JsonEncodedText.Encode(TimelineReport.WireToServer),
        WireToClientColumn = JsonEncodedText.Encode(TimelineReport.WireToClient), ServerColumn = JsonEncodedText.Encode(TimelineReport.Server);

    /// <summary>Microseconds as exact decimal seconds ("1.017188", never "1.4E-05").</summary>
    private static decimal Seconds(long micros) => micros / 1_000_000m;

    private static void WriteOptional(Utf8JsonWriter json, JsonEncodedText name, long? micros, long origin)
    {
        if (micros is { } value)
            json.WriteNumber(name, Seconds(value - origin));
        else
            json.WriteNull(name);
    }
}
