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
        WriteSeconds(json, FirstSeenName, origin);
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
            WriteSeconds(json, SilentAtEndName, silence);
        if (c.HasNotes || !WriteEventTimeline(json, c, origin))
        {
            var timeline = c.Timeline;
            json.WriteStartArray(TimelineName);
            foreach (var t in timeline)
                WriteRow(json, t.AtMicroseconds - origin, t.Column, t.Text);
            json.WriteEndArray();
            json.WriteStartArray(EvidenceName);
            foreach (int row in ReportBuilder.EvidenceRows(c.Evidence, timeline))
                json.WriteNumberValue(row);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteRow(Utf8JsonWriter json, long t, TimelineColumn column, string text)
    {
        json.WriteStartArray();
        WriteSecondsValue(json, t);
        json.WriteStringValue(column switch
        {
            TimelineColumn.Client => ClientColumn,
            TimelineColumn.WireToServer => WireToServerColumn,
            TimelineColumn.WireToClient => WireToClientColumn,
            _ => ServerColumn,
        });
        json.WriteStringValue(text);
        json.WriteEndArray();
    }

    /// <summary>
    /// A capture's timeline straight from the connection's events, and its evidence as their rows, without building the
    /// timeline's objects: each evidence event is one of the events. False (nothing written) when the events are not in
    /// time order, which the general path sorts.
    /// </summary>
    private static bool WriteEventTimeline(Utf8JsonWriter json, ConnectionReport c, long origin)
    {
        var events = c.EventSpan;
        long previous = long.MinValue;
        foreach (ref readonly var e in events)
        {
            if (e.Kind == ConnectionEventKind.Silence)
                continue;
            if (e.AtMicroseconds < previous)
                return false;
            previous = e.AtMicroseconds;
        }
        var evidence = c.Evidence;
        Span<int> rows = stackalloc int[ConnectionClassifier.MaxEvidence + 1];
        int found = 0, next = 0, row = 0;
        json.WriteStartArray(TimelineName);
        foreach (ref readonly var e in events)
        {
            if (e.Kind == ConnectionEventKind.Silence)
                continue;
            while (next < evidence.Count && evidence[next].Kind == ConnectionEventKind.Silence)
                next++;
            if (next < evidence.Count && evidence[next] == e && found < rows.Length)
            {
                rows[found++] = row;
                next++;
            }
            WriteRow(json, e.AtMicroseconds - origin, EventText.Column(e.Kind), EventText.Label(e));
            row++;
        }
        json.WriteEndArray();
        json.WriteStartArray(EvidenceName);
        foreach (int r in rows[..found])
            json.WriteNumberValue(r);
        json.WriteEndArray();
        return true;
    }

    /// <summary>Exact decimal seconds from µs ("1.017188", "2.5", "0"), formatted without a decimal's arithmetic.</summary>
    private static void WriteSecondsValue(Utf8JsonWriter json, long micros)
    {
        Span<byte> text = stackalloc byte[24];
        json.WriteRawValue(text[..FormatSeconds(micros, text)], skipInputValidation: true);
    }

    internal static int FormatSeconds(long micros, Span<byte> text)
    {
        int n = 0;
        ulong value;
        if (micros < 0)
        {
            text[n++] = (byte)'-';
            value = (ulong)(-(micros + 1)) + 1;
        }
        else
            value = (ulong)micros;
        ulong whole = value / 1_000_000, fraction = value % 1_000_000;
        System.Buffers.Text.Utf8Formatter.TryFormat(whole, text[n..], out int written);
        n += written;
        if (fraction != 0)
        {
            text[n++] = (byte)'.';
            for (ulong unit = 100_000; fraction != 0; unit /= 10)
            {
                text[n++] = (byte)('0' + fraction / unit);
                fraction %= unit;
            }
        }
        return n;
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
    private static void WriteSeconds(Utf8JsonWriter json, JsonEncodedText name, long micros)
    {
        json.WritePropertyName(name);
        WriteSecondsValue(json, micros);
    }

    private static void WriteOptional(Utf8JsonWriter json, JsonEncodedText name, long? micros, long origin)
    {
        if (micros is { } value)
            WriteSeconds(json, name, value - origin);
        else
            json.WriteNull(name);
    }
}
