using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>One connection's fate, the evidence for it and its timeline. Times are µs on the observation's clock.</summary>
internal sealed class ConnectionReport
{
    private readonly ConnectionEvent[] _events;
    private readonly List<(long At, TimelineColumn Column, string Text)>? _notes;
    private IReadOnlyList<TimelineEntry>? _timeline;

    internal ConnectionReport(Flow flow, Verdict verdict)
    {
        Client = flow.Client;
        Server = flow.Server;
        Verdict = verdict;
        FirstSeenAtMicroseconds = flow.FirstAt;
        LastSeenAtMicroseconds = flow.LastAt;
        Packets = flow.Packets;
        DuplicatesIgnored = flow.Duplicates;
        _events = flow.Events.ToArray(); // the flow is recycled
        _notes = flow.Notes;
    }

    public IpEndpoint Client { get; }
    public IpEndpoint Server { get; }
    public Verdict Verdict { get; private set; }
    public Fate Fate => Verdict.Fate;
    public string FateName => FateNames.Name(Verdict.Fate);
    /// <summary>True if at some moment the client was connected while the server had not completed the handshake.</summary>
    public bool HalfEstablished => Verdict.HalfEstablished;
    /// <summary>"request-socket", "syncookie", or null when the evidence does not say.</summary>
    public string? Kind => Verdict.Kind;
    public string Reason => Verdict.Reason;
    public IReadOnlyList<ConnectionEvent> Evidence => Verdict.Evidence;
    /// <summary>Every typed event the tracker derived for this connection, in time order (the evidence is a selection of these).</summary>
    public IReadOnlyList<ConnectionEvent> Events => _events;
    /// <summary>The events as the timeline's source; with no lab notes, the timeline is these in order, without the silence.</summary>
    internal ReadOnlySpan<ConnectionEvent> EventSpan => _events;
    /// <summary>The lab's own words for calls and server states are part of the timeline.</summary>
    internal bool HasNotes => _notes is not null;
    public long FirstSeenAtMicroseconds { get; }
    public long LastSeenAtMicroseconds { get; }
    public long? ConnectedAtMicroseconds => Verdict.ConnectedAtMicroseconds;
    public long? ServerCompletedAtMicroseconds => Verdict.ServerCompletedAtMicroseconds;
    public long? AcceptedAtMicroseconds => Verdict.AcceptedAtMicroseconds;
    public long Packets { get; }
    public int DuplicatesIgnored { get; }
    public ConnectionFacts Facts => Verdict.Facts;
    public int SynAckResends => Verdict.Facts.SynAckResends;
    public int ClientRetransmissions => Verdict.Facts.ClientRetransmissions;
    /// <summary>How sure the half-established verdict is (null when not half-established).</summary>
    public VerdictConfidence? Confidence => _confidence ??= VerdictConfidence.Of(this);
    private VerdictConfidence? _confidence;

    /// <summary>
    /// Revises a plainly accepted connection to a late completion that only its neighbours make likely (see
    /// <see cref="ExplainReport"/>): the fate becomes accepted-late, half-established, with <paramref name="reason"/>.
    /// </summary>
    internal void ReviseToLikelyLateCompletion(string reason)
    {
        Verdict = Verdict with { Fate = Fate.AcceptedLate, HalfEstablished = true, Reason = reason };
        _confidence = new VerdictConfidence(false, reason);
    }

    /// <summary>Packets, client calls and server events in time order (bounded: long connections keep their start and end).</summary>
    public IReadOnlyList<TimelineEntry> Timeline => _timeline ??= BuildTimeline();

    private List<TimelineEntry> BuildTimeline()
    {
        var entries = new List<TimelineEntry>(_events.Length + (_notes?.Count ?? 0));
        foreach (var e in _events)
        {
            var column = EventText.Column(e.Kind);
            if (column == TimelineColumn.Client && _notes is not null)
                continue; // the lab's own words for its calls are in the notes
            if (column == TimelineColumn.Server && e.Kind != ConnectionEventKind.Silence && _notes is not null)
                continue;
            if (e.Kind == ConnectionEventKind.Silence)
                continue;
            entries.Add(new TimelineEntry(e.AtMicroseconds, column, EventText.Label(e)));
        }
        if (_notes is not null)
            foreach (var (at, column, text) in _notes)
                entries.Add(new TimelineEntry(at, column, text));
        return entries.OrderBy(entry => entry.AtMicroseconds).ToList(); // stable: same-time entries keep their order
    }

    public override string ToString() => $"{Client} -> {Server}: {FateName}{(HalfEstablished ? " (half-established)" : "")}";
}
