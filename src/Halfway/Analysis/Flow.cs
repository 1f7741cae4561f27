using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Halfway.Wire;

namespace Halfway.Analysis;

/// <summary>
/// One connection being tracked: it turns packets into typed <see cref="ConnectionEvent"/>s (it knows the ISNs, what the
/// client already sent and what the server acknowledged) and keeps a bounded list of them; the classifier reads it at the end.
/// </summary>
internal sealed class Flow
{
    /// <summary>The same segment again this soon is the capture seeing it twice (two interfaces, two VLANs), not a retransmission.</summary>
    public const long DuplicateWindowMicroseconds = 1000;
    /// <summary>A SYN-ACK this soon after a retransmitted SYN answers that SYN.</summary>
    public const long SynAnswerWindowMicroseconds = 200_000;
    private const int MaxEvents = 96;
    /// <summary>After the server completed the connection the fate is decided: only a few more events are kept, for the timeline.</summary>
    private const int MaxEventsAfterCompletion = 6;

    public IpEndpoint Client;
    public IpEndpoint Server;
    public bool OrientationKnown;
    public long FirstAt;
    public long LastAt;
    public long Packets;
    public int Duplicates;
    public bool Closed;
    public List<(long At, TimelineColumn Column, string Text)>? Notes; // lab calls and server states, kept verbatim
    /// <summary>The 4-tuple's hash in the engine's <see cref="FlowTable"/>.</summary>
    public uint TableHash;
    /// <summary>The engine's count of flows started before this one: orders connections that started at the same microsecond.</summary>
    public long Serial;

    // The events live in _events[_eventsStart..(_eventsStart + _eventsCapacity)]: a segment of an engine's shared slab
    // (see EventSlabs) until a connection needs more, then an array of the flow's own.
    private ConnectionEvent[] _events;
    private int _eventsStart;
    private int _eventsCapacity;
    private readonly EventSlabs? _slabs;
    private int _eventCount;
    private int _eventsDropped;
    private bool _hasClientIsn, _hasServerIsn, _serverComplete, _clientFin, _serverFin;
    private uint _clientIsn, _serverIsn, _clientNext, _serverAcked;
    // The close: where the server's FIN ends, and whether each side acknowledged the other's FIN.
    private uint _serverFinEnd;
    private bool _clientFinAcked, _serverFinAcked;
    private long _lastClientSynAt;
    private bool _connected;

    // The last segment in each direction, to recognise the same packet captured twice.
    private long _lastAtToServer, _lastAtToClient;
    private uint _lastSeqToServer, _lastSeqToClient, _lastAckToServer, _lastAckToClient;
    private int _lastLenToServer, _lastLenToClient;
    private TcpFlags _lastFlagsToServer, _lastFlagsToClient;

    public Flow(IpEndpoint client, IpEndpoint server, bool orientationKnown, long at, EventSlabs? slabs = null)
    {
        if (slabs is null)
        {
            _events = new ConnectionEvent[8];
            _eventsCapacity = _events.Length;
        }
        else
        {
            _slabs = slabs;
            _events = slabs.Take(EventSlabs.SmallSegment, out _eventsStart);
            _eventsCapacity = EventSlabs.SmallSegment;
        }
        Reinitialize(client, server, orientationKnown, at);
    }

    /// <summary>Makes a finished flow new again, keeping its event buffer: the engine recycles flows so that they do not pile up in the GC's old generation.</summary>
    public void Reinitialize(IpEndpoint client, IpEndpoint server, bool orientationKnown, long at)
    {
        Client = client;
        Server = server;
        OrientationKnown = orientationKnown;
        FirstAt = LastAt = at;
        Packets = 0;
        Duplicates = 0;
        Closed = false;
        Notes = null;
        _eventCount = _eventsDropped = 0;
        _eventLimit = MaxEvents;
        _hasClientIsn = _hasServerIsn = _serverComplete = _clientFin = _serverFin = _connected = false;
        _clientIsn = _serverIsn = _clientNext = _serverAcked = _serverFinEnd = 0;
        _clientFinAcked = _serverFinAcked = false;
        _lastClientSynAt = _lastAtToServer = _lastAtToClient = long.MinValue;
        _lastSeqToServer = _lastSeqToClient = _lastAckToServer = _lastAckToClient = 0;
        _lastLenToServer = _lastLenToClient = 0;
        _lastFlagsToServer = _lastFlagsToClient = TcpFlags.None;
    }

    /// <summary>Picks client and server for the first packet of a flow: the SYN's sender is the client; without a SYN, the lower port is taken for the server's.</summary>
    public static Flow Start(in TcpSegment segment, long at, Stack<Flow>? spare = null, EventSlabs? slabs = null)
    {
        var flow = spare is not null && spare.TryPop(out var recycled) ? recycled : new Flow(segment.Source, segment.Destination, false, at, slabs);
        if (segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Ack))
            flow.Reinitialize(segment.Source, segment.Destination, true, at);
        else if (segment.Has(TcpFlags.Syn | TcpFlags.Ack))
            flow.Reinitialize(segment.Destination, segment.Source, true, at);
        else if (segment.Source.Port < segment.Destination.Port)
            flow.Reinitialize(segment.Destination, segment.Source, false, at);
        else
            flow.Reinitialize(segment.Source, segment.Destination, false, at);
        return flow;
    }

    /// <summary>
    /// Asks the CPU to fetch the flow's first four cache lines, ahead of work on it (see <see cref="FlowTable.PrefetchFlow"/>).
    /// Only a hint: the object's address is taken and used with no allocation in between, so the GC cannot move it
    /// meanwhile (and a stale address would only fetch the wrong lines).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(Flow flow)
    {
        if (!Sse.IsSupported)
            return;
        byte* at = (byte*)Unsafe.As<Flow, nint>(ref flow);
        Sse.Prefetch0(at);
        Sse.Prefetch0(at + 64);
        Sse.Prefetch0(at + 128);
        Sse.Prefetch0(at + 192);
    }

    /// <summary>Asks the CPU to fetch the flow's first events (a hint, as <see cref="Prefetch"/>): the classifier reads them next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchEvents()
    {
        if (!Sse.IsSupported || (uint)_eventsStart >= (uint)_events.Length)
            return;
        byte* at = (byte*)Unsafe.AsPointer(ref _events[_eventsStart]);
        Sse.Prefetch0(at);
        Sse.Prefetch0(at + 64);
        Sse.Prefetch0(at + 128);
    }

    public ReadOnlySpan<ConnectionEvent> Events => _events.AsSpan(_eventsStart, _eventCount);

    public int EventsDropped => _eventsDropped;
    public uint ClientIsn => _clientIsn;
    /// <summary>The client ACKed the SYN-ACK (or sent data): its connect() returned.</summary>
    public bool Connected => _connected;
    public uint ServerIsn => _serverIsn;
    /// <summary>
    /// Both FINs were sent and acknowledged and the server completed the connection: nothing the connection's own ends
    /// send after this (a FIN or last ACK re-sent) can change its fate.
    /// </summary>
    public bool CloseAcknowledged => _clientFinAcked && _serverFinAcked && _serverComplete;

    /// <summary>True when this SYN starts a new connection on the same 4-tuple (port reuse: a new ISN).</summary>
    public bool IsNewConnection(in TcpSegment segment) =>
        segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Ack) && _hasClientIsn && segment.Sequence != _clientIsn
        && segment.Source == Client;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnPacket(in TcpSegment s, long at, long deliveredAt)
    {
        bool toServer = s.Source.Port == Client.Port && s.Source.SameAddress(Client);
        if (IsDuplicate(s, at, toServer))
        {
            Duplicates++;
            return;
        }
        Packets++;
        LastAt = at;
        if (toServer)
            FromClient(s, at, deliveredAt);
        else
            FromServer(s, at);
    }

    private bool IsDuplicate(in TcpSegment s, long at, bool toServer)
    {
        if (toServer)
        {
            bool same = _lastAtToServer != long.MinValue && at - _lastAtToServer <= DuplicateWindowMicroseconds && s.Sequence == _lastSeqToServer && s.Acknowledgment == _lastAckToServer
                && s.Flags == _lastFlagsToServer && s.PayloadLength == _lastLenToServer;
            _lastAtToServer = at; _lastSeqToServer = s.Sequence; _lastAckToServer = s.Acknowledgment; _lastFlagsToServer = s.Flags; _lastLenToServer = s.PayloadLength;
            return same;
        }
        else
        {
            bool same = _lastAtToClient != long.MinValue && at - _lastAtToClient <= DuplicateWindowMicroseconds && s.Sequence == _lastSeqToClient && s.Acknowledgment == _lastAckToClient
                && s.Flags == _lastFlagsToClient && s.PayloadLength == _lastLenToClient;
            _lastAtToClient = at; _lastSeqToClient = s.Sequence; _lastAckToClient = s.Acknowledgment; _lastFlagsToClient = s.Flags; _lastLenToClient = s.PayloadLength;
            return same;
        }
    }

    private void FromClient(in TcpSegment s, long at, long deliveredAt)
    {
        var flags = s.Flags;
        if ((flags & TcpFlags.Rst) != 0)
        {
            Closed = true;
            Add(ConnectionEventKind.ClientRst, at);
            return;
        }
        if ((flags & TcpFlags.Syn) != 0)
        {
            if ((flags & TcpFlags.Ack) != 0)
                return; // a simultaneous open: not a listener's connection
            if (!_hasClientIsn)
            {
                _hasClientIsn = true;
                _clientIsn = s.Sequence;
                _clientNext = s.Sequence + 1;
                Add(ConnectionEventKind.ClientSyn, at);
            }
            else
                Add(ConnectionEventKind.ClientSynRetransmitted, at);
            _lastClientSynAt = at;
            return;
        }
        if ((flags & TcpFlags.Ack) == 0)
            return;
        if (_serverFin && !SequenceAfter(_serverFinEnd, s.Acknowledgment))
            _serverFinAcked = true;
        if (!_connected && _hasServerIsn && FinalHandshakeAck.AcknowledgesSynAck(s, _serverIsn))
        {
            _connected = true;
            if (!_hasClientIsn)
            {
                _hasClientIsn = true;
                _clientIsn = s.Sequence - 1;
                _clientNext = s.Sequence;
            }
            if (FinalHandshakeAck.Is(s, clientIsn: null, _serverIsn))
            {
                Add(ConnectionEventKind.ClientHandshakeAck, at, deliveredAt);
                return;
            }
        }
        uint length = s.SequenceLength;
        if (length == 0)
        {
            if (_connected)
                Add(ConnectionEventKind.ClientAck, at, deliveredAt < 0 ? -1 : 0);
            return;
        }
        if (!_hasClientIsn)
            return; // mid-stream without a start: nothing to compare with
        uint end = s.Sequence + length;
        bool isNew = SequenceAfter(end, _clientNext);
        bool fin = (flags & TcpFlags.Fin) != 0;
        if (fin)
            _clientFin = true;
        if (isNew)
        {
            _clientNext = end;
            Add(fin && s.PayloadLength == 0 ? ConnectionEventKind.ClientFin : ConnectionEventKind.ClientData, at, s.PayloadLength);
        }
        else if (!_serverComplete || SequenceAfter(end, _serverAcked))
            Add(ConnectionEventKind.ClientRetransmission, at, s.PayloadLength);
        if (_clientFin && _serverFin)
            Closed = true;
    }

    private void FromServer(in TcpSegment s, long at)
    {
        var flags = s.Flags;
        if ((flags & TcpFlags.Syn) != 0)
        {
            if ((flags & TcpFlags.Ack) == 0)
                return;
            if (!_hasServerIsn)
            {
                _hasServerIsn = true;
                _serverIsn = s.Sequence;
                if (!_hasClientIsn)
                {
                    _hasClientIsn = true;
                    _clientIsn = s.Acknowledgment - 1;
                    _clientNext = s.Acknowledgment;
                }
                Add(ConnectionEventKind.ServerSynAck, at);
            }
            else if (s.Sequence == _serverIsn)
                Add(_lastClientSynAt != long.MinValue && at - _lastClientSynAt <= SynAnswerWindowMicroseconds ? ConnectionEventKind.ServerSynAckAnsweringSyn : ConnectionEventKind.ServerSynAckResent, at);
            return;
        }
        if ((flags & TcpFlags.Rst) != 0)
        {
            Closed = true;
            if ((flags & TcpFlags.Ack) == 0)
                Add(ConnectionEventKind.ServerBareRst, at, _hasServerIsn ? s.Sequence - _serverIsn : -1);
            else if (!_hasServerIsn && !_connected)
                Add(ConnectionEventKind.ServerRefused, at);
            else
                Add(ConnectionEventKind.ServerCompleteSocket, at, ((long)flags << 32) | (uint)s.PayloadLength);
            return;
        }
        if ((flags & TcpFlags.Ack) == 0)
            return;
        if (!_serverComplete || SequenceAfter(s.Acknowledgment, _serverAcked))
            _serverAcked = s.Acknowledgment;
        if (!_serverComplete)
            _eventLimit = Math.Min(MaxEvents, _eventCount + 1 + MaxEventsAfterCompletion);
        _serverComplete = true;
        if ((flags & TcpFlags.Fin) != 0 && !_serverFin)
        {
            _serverFin = true;
            _serverFinEnd = s.Sequence + s.SequenceLength;
        }
        if (_clientFin && !SequenceAfter(_clientNext, s.Acknowledgment))
            _clientFinAcked = true;
        if (_clientFin && _serverFin)
            Closed = true;
        Add(ConnectionEventKind.ServerCompleteSocket, at, ((long)flags << 32) | (uint)s.PayloadLength);
    }

    public void AddNote(long at, TimelineColumn column, string text) => (Notes ??= []).Add((at, column, text));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(ConnectionEventKind kind, long at, long value = 0)
    {
        int count = _eventCount;
        if (count < _eventLimit && count < _eventsCapacity)
        {
            _events[_eventsStart + count] = new ConnectionEvent(kind, at, value);
            _eventCount = count + 1;
            return;
        }
        AddPastRoom(kind, at, value);
    }

    /// <summary><see cref="Add"/> when the events fill their segment or reached the limit.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddPastRoom(ConnectionEventKind kind, long at, long value)
    {
        int cap = _eventLimit;
        // The end of a connection decides its fate as much as its start: these events get a few reserved slots past the
        // cap, so that one of them (an accept, say) is not overwritten by the next (the socket leaving the table).
        bool decisive = ((DecisiveKinds >> (int)kind) & 1) != 0;
        if (_eventCount >= cap && !(decisive && _eventCount < cap + DecisiveReserve))
        {
            _eventsDropped++;
            if (decisive)
                _events[_eventsStart + _eventCount - 1] = new ConnectionEvent(kind, at, value);
            return;
        }
        if (_eventCount == _eventsCapacity)
            Grow();
        _events[_eventsStart + _eventCount++] = new ConnectionEvent(kind, at, value);
    }

    /// <summary>Moves the events to a bigger place: a large slab segment, then an array of the flow's own (a segment cannot grow).</summary>
    private void Grow()
    {
        if (_slabs is not null && _eventsCapacity == EventSlabs.SmallSegment)
        {
            var slab = _slabs.Take(EventSlabs.LargeSegment, out int start);
            _events.AsSpan(_eventsStart, _eventCount).CopyTo(slab.AsSpan(start, EventSlabs.LargeSegment));
            _slabs.GiveBack(_events, _eventsStart, EventSlabs.SmallSegment);
            _events = slab;
            _eventsStart = start;
            _eventsCapacity = EventSlabs.LargeSegment;
            return;
        }
        var bigger = new ConnectionEvent[Math.Min(_eventsCapacity * 2, MaxEvents + DecisiveReserve)];
        _events.AsSpan(_eventsStart, _eventCount).CopyTo(bigger);
        if (_slabs is not null && _eventsCapacity == EventSlabs.LargeSegment) // a flow of the engine's: the segment is a slab's
            _slabs.GiveBack(_events, _eventsStart, EventSlabs.LargeSegment);
        _events = bigger;
        _eventsStart = 0;
        _eventsCapacity = bigger.Length;
    }

    private const int DecisiveReserve = 8;

    /// <summary>The kinds that end a connection or decide its fate, one bit each (a test of a bit: <see cref="Add"/> runs for every event).</summary>
    private const ulong DecisiveKinds = 1UL << (int)ConnectionEventKind.ClientRst | 1UL << (int)ConnectionEventKind.ClientFin
        | 1UL << (int)ConnectionEventKind.ServerBareRst | 1UL << (int)ConnectionEventKind.ClientRetransmission
        | 1UL << (int)ConnectionEventKind.ServerSynAckResent | 1UL << (int)ConnectionEventKind.ServerAccepted
        | 1UL << (int)ConnectionEventKind.ServerSocketGone | 1UL << (int)ConnectionEventKind.CallReset;

    /// <summary>How many events are kept: <see cref="MaxEvents"/>, and once the server completed the connection a few more than it had then.</summary>
    private int _eventLimit = MaxEvents;

    private static bool SequenceAfter(uint a, uint b) => (int)(a - b) > 0;
}
