using System.Text.Encodings.Web;
using System.Text.Json;
using Halfway.Analysis;

namespace Halfway.Reports;

/// <summary>The --json form of `halfway explain` (schema in docs/explain.md), on one line. Times are seconds: <c>first_seen</c> absolute (Unix), the rest relative to each connection's first event.</summary>
internal static class ExplainJsonWriter
{
    public const int SchemaVersion = 3;

    private const int FlushAtBytes = 64 * 1024;
    // Without the writer's structure checks: what is written where is fixed by this file, and the tests parse its output.
    private static readonly JsonWriterOptions Options = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static void Write(Stream stream, ExplainInput input, ExplainReport report, AnalysisContext context)
    {
        // The second half of the connections is written on another thread from the start, while this one writes the
        // summary and the listeners (their causes take a pass over the connections) and then the first half.
        var kept = report.Kept;
        int half = kept.Count >= SplitAtConnections && Environment.ProcessorCount >= 2 ? kept.Count / 2 : kept.Count;
        using var rest = half < kept.Count ? new SecondHalf(kept, half) : null;
        using var json = new Utf8JsonWriter(stream, Options);
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
        WriteConnections(json, kept, 0, half);
        if (rest is not null)
        {
            // Written by the other thread as an array of its own: its elements follow this half's after a comma.
            json.Flush();
            stream.WriteByte((byte)',');
            rest.CopyElementsTo(stream);
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
    /// From this many connections on, the second half of them is written on a second thread meanwhile: the writing is
    /// the one part of `explain --json` after the analysis that grows with the capture (30-40 ms for 10,000 connections).
    /// </summary>
    private const int SplitAtConnections = 2048;

    private static void WriteConnections(Utf8JsonWriter json, IReadOnlyList<ConnectionReport> kept, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            WriteConnection(json, kept[i]);
            // The writer holds everything until flushed: tens of thousands of connections made a buffer of tens of MB
            // (grown by doubling, fresh memory) written out in one piece at the end.
            if (json.BytesPending >= FlushAtBytes)
                json.Flush();
        }
    }

    /// <summary>
    /// The connections from <c>from</c> on, written on a thread of their own into 64 KB chunks as a JSON array with the
    /// same writer options: its elements are the bytes the single writer would have written after a comma.
    /// </summary>
    private sealed class SecondHalf : IDisposable
    {
        private readonly List<byte[]> _chunks = [];
        private int _lastLength;
        private readonly Thread _thread;
        private Exception? _error;

        public SecondHalf(IReadOnlyList<ConnectionReport> kept, int from)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    var chunks = new ChunkStream(_chunks);
                    using (var json = new Utf8JsonWriter(chunks, Options))
                    {
                        json.WriteStartArray();
                        WriteConnections(json, kept, from, kept.Count);
                        json.WriteEndArray();
                    }
                    _lastLength = chunks.LastLength;
                }
                catch (Exception e)
                {
                    _error = e;
                }
            }) { IsBackground = true, Name = "halfway json" };
            _thread.Start();
        }

        /// <summary>Waits for the thread, then copies the array's elements (without its brackets) to <paramref name="stream"/>.</summary>
        public void CopyElementsTo(Stream stream)
        {
            _thread.Join();
            if (_error is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
            for (int i = 0; i < _chunks.Count; i++)
            {
                int start = i == 0 ? 1 : 0, end = i == _chunks.Count - 1 ? _lastLength - 1 : _chunks[i].Length;
                stream.Write(_chunks[i], start, end - start);
            }
        }

        public void Dispose() => _thread.Join();
    }

    /// <summary>A write-only stream that keeps what it is given in 64 KB chunks: no buffer grown by copying.</summary>
    private sealed class ChunkStream(List<byte[]> chunks) : Stream
    {
        private const int ChunkLength = 64 * 1024;
        private int _used = ChunkLength;

        /// <summary>Bytes used in the last chunk.</summary>
        public int LastLength => _used;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                if (_used == ChunkLength)
                {
                    chunks.Add(new byte[ChunkLength]);
                    _used = 0;
                }
                int n = Math.Min(buffer.Length, ChunkLength - _used);
                buffer[..n].CopyTo(chunks[^1].AsSpan(_used));
                _used += n;
                buffer = buffer[n..];
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
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
        WriteEndpoint(json, ClientName, c.Client);
        WriteEndpoint(json, ServerName, c.Server);
        json.WriteString(FateName, FateTexts[(int)c.Fate]);
        json.WriteBoolean(HalfEstablishedName, c.HalfEstablished);
        if (c.Kind is null) json.WriteNull(KindName);
        else if (c.Kind == ConnectionClassifier.RequestSocketKind) json.WriteString(KindName, RequestSocketText);
        else if (c.Kind == ConnectionClassifier.SyncookieKind) json.WriteString(KindName, SyncookieText);
        else json.WriteString(KindName, c.Kind);
        if (c.Confidence is { } confidence)
        {
            json.WriteString(ConfidenceName, confidence.Certain ? CertainText : LikelyText);
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
        WriteRowStart(json, t, column);
        json.WriteStringValue(text);
        json.WriteEndArray();
    }

    private static void WriteRowStart(Utf8JsonWriter json, long t, TimelineColumn column)
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
    }

    /// <summary>
    /// A row for one event, its label as <see cref="EventText.Label"/> words it but not built as a string: the labels
    /// that never change are encoded once, and a segment's size is formatted straight into the output.
    /// </summary>
    private static void WriteEventRow(Utf8JsonWriter json, long t, in ConnectionEvent e)
    {
        WriteRowStart(json, t, EventText.Column(e.Kind));
        WriteEventLabel(json, e);
        json.WriteEndArray();
    }

    /// <summary>The event's label as a JSON string, the words of <see cref="EventText.Label"/> (a test compares the two for every kind).</summary>
    internal static void WriteEventLabel(Utf8JsonWriter json, in ConnectionEvent e)
    {
        if (DataLength(e) is { } length && length >= 0)
        {
            Span<byte> text = stackalloc byte[40];
            "data "u8.CopyTo(text);
            System.Buffers.Text.Utf8Formatter.TryFormat(length, text[5..], out int digits);
            int n = 5 + digits;
            var tail = e.Kind == ConnectionEventKind.ClientRetransmission ? " B (again)"u8 : " B"u8;
            tail.CopyTo(text[n..]);
            json.WriteStringValue(text[..(n + tail.Length)]);
        }
        else if (FixedLabels[(int)e.Kind] is { } fixedLabel)
            json.WriteStringValue(fixedLabel);
        else
            json.WriteStringValue(EventText.Label(e));
    }

    /// <summary>The payload length a label shows as "data N B", or null when the label is another.</summary>
    private static long? DataLength(in ConnectionEvent e)
    {
        switch (e.Kind)
        {
            case ConnectionEventKind.ClientData:
                return e.Value;
            case ConnectionEventKind.ClientRetransmission when e.Value > 0:
                return e.Value;
            case ConnectionEventKind.ServerCompleteSocket:
                var flags = (Wire.TcpFlags)(e.Value >> 32);
                int length = (int)(e.Value & 0xffffffff);
                return (flags & (Wire.TcpFlags.Rst | Wire.TcpFlags.Fin)) == 0 && length > 0 ? length : null;
            default:
                return null;
        }
    }

    /// <summary>The labels of the kinds whose label depends on nothing but the kind, encoded once (null for the others).</summary>
    private static readonly JsonEncodedText?[] FixedLabels = BuildFixedLabels();

    private static JsonEncodedText?[] BuildFixedLabels()
    {
        var kinds = Enum.GetValues<ConnectionEventKind>();
        var labels = new JsonEncodedText?[kinds.Max(k => (int)k) + 1];
        foreach (var kind in kinds)
        {
            if (kind is ConnectionEventKind.ClientData or ConnectionEventKind.ClientRetransmission or ConnectionEventKind.ServerCompleteSocket
                or ConnectionEventKind.ServerBareRst or ConnectionEventKind.Silence)
                continue;
            labels[(int)kind] = JsonEncodedText.Encode(EventText.Label(new ConnectionEvent(kind, 0)), Options.Encoder);
        }
        return labels;
    }

    /// <summary>An endpoint as its text ("10.0.0.1:8080"); an IPv4 one formatted straight into the output.</summary>
    private static void WriteEndpoint(Utf8JsonWriter json, JsonEncodedText name, in Wire.IpEndpoint endpoint)
    {
        Span<byte> text = stackalloc byte[24];
        if (endpoint.TryFormatV4(text, out int written))
            json.WriteString(name, text[..written]);
        else
            json.WriteString(name, endpoint.ToString());
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
            WriteEventRow(json, e.AtMicroseconds - origin, e);
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
        ulong whole = value / 1_000_000;
        uint fraction = (uint)(value - whole * 1_000_000);
        System.Buffers.Text.Utf8Formatter.TryFormat(whole, text[n..], out int written);
        n += written;
        if (fraction != 0)
        {
            // Six digits, divided by constants (a variable divisor per digit was most of the formatting), trailing zeros left out.
            int digits = 6;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }
            text[n] = (byte)'.';
            for (int i = digits; i > 0; i--)
            {
                text[n + i] = (byte)('0' + fraction % 10);
                fraction /= 10;
            }
            n += digits + 1;
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
        WireToClientColumn = JsonEncodedText.Encode(TimelineReport.WireToClient), ServerColumn = JsonEncodedText.Encode(TimelineReport.Server),
        RequestSocketText = JsonEncodedText.Encode(ConnectionClassifier.RequestSocketKind, Options.Encoder),
        SyncookieText = JsonEncodedText.Encode(ConnectionClassifier.SyncookieKind, Options.Encoder),
        CertainText = JsonEncodedText.Encode("certain", Options.Encoder), LikelyText = JsonEncodedText.Encode("likely", Options.Encoder);

    private static readonly JsonEncodedText[] FateTexts = [.. Enum.GetValues<Fate>().OrderBy(f => (int)f).Select(f => JsonEncodedText.Encode(FateNames.Name(f), Options.Encoder))];

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
