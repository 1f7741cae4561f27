using Halfway.Lab;
using Halfway.Scenarios;
using Halfway.Traffic;
using Halfway.Wire;
using Halfway.Observe;

namespace Halfway.Runs;

/// <summary>Everything one scenario's run measured, before analysis.</summary>
internal sealed class ScenarioRun
{
    public required Scenario Scenario { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public double DurationMs { get; set; }
    public bool ReachedBound { get; set; }

    /// <summary>A signal stopped the run before its last step or bound: what it holds is what was observed until then.</summary>
    public bool Interrupted { get; set; }
    public double? InterruptedAtMs { get; set; }
    public string ServerAddress { get; set; } = "";

    /// <summary>Per host role: the settings in force after the lab was configured.</summary>
    public Dictionary<string, SortedDictionary<string, string>> Settings { get; } = new();

    public List<ChangedSetting> Changed { get; } = new();

    /// <summary>Per host role: counter deltas over the run, by nstat name.</summary>
    public Dictionary<string, Dictionary<string, long>> Counters { get; } = new();

    /// <summary>The server host's counters about once a second during the run.</summary>
    public List<CounterSnapshot> CounterSamples { get; } = new();

    public List<LinkPacket> Packets { get; } = new();

    private IReadOnlyList<RunSegment>? _segments;
    private ILookup<IpEndpoint, RunSegment>? _segmentsByClient;

    /// <summary>The TCP segments among <see cref="Packets"/>, parsed once when first read, after the run (in capture order; Frame counts every packet).</summary>
    public IReadOnlyList<RunSegment> Segments => _segments ??= ParseSegments();

    /// <summary>Each connection's segments, by its client end.</summary>
    public ILookup<IpEndpoint, RunSegment> SegmentsByClient => _segmentsByClient ??= Segments.ToLookup(s => s.Client);

    private List<RunSegment> ParseSegments()
    {
        var segments = new List<RunSegment>(Packets.Count);
        long frame = 0;
        foreach (var packet in Packets)
        {
            frame++;
            if (TcpSegment.TryParseIp(packet.Bytes, out var segment))
                segments.Add(new RunSegment(packet, segment, frame));
        }
        return segments;
    }
    public long LinkPacketsSeen { get; set; }
    public long LinkPacketsDropped { get; set; }
    public long LinkPacketsInFlight { get; set; }
    public IReadOnlyList<ClientConnection> Connections { get; set; } = [];
    public List<ServerEvent> ServerEvents { get; } = new();
    public List<ServerSocketObservation> ServerSockets { get; } = new();
    public List<AcceptQueueSample> AcceptQueueSamples { get; } = new();

    /// <summary>When each socket-table sample was taken (µs): a connection absent from a sample is evidence too.</summary>
    public List<long> ServerTableSampleTimes { get; } = new();
    public bool ServerTableObserved { get; set; }
    /// <summary>CPU time spent reading the server's socket table, all samples together (the observer's cost).</summary>
    public TimeSpan ServerTableSamplingTime { get; set; }

    /// <summary>When the server application closed its listener and sockets (µs): later RSTs are its own shutdown's.</summary>
    public long ServerStoppedAtMicroseconds { get; set; } = long.MaxValue;
    public List<string> Warnings { get; } = new();
    /// <summary>How many calls the client program logged on its connections (halfway-call lines); 0 when they are unknown.</summary>
    public int ClientCallLines { get; set; }

    /// <summary>The server kernel's own events (drops with reasons, SYN-ACK re-sends, RSTs) from its tracepoints, in time order.</summary>
    public List<KernelEventObservation> KernelEvents { get; } = new();
    /// <summary>The kernel witness watched the server's namespace for the whole run.</summary>
    public bool KernelWitnessOn { get; set; }
    /// <summary>Why the witness did not run (one line), or null when it ran or was turned off.</summary>
    public string? KernelWitnessMissing { get; set; }
    /// <summary>Events the kernel could not hand over (its ring buffer was full): the witness's list is short by this many.</summary>
    public ulong KernelEventsLost { get; set; }

    /// <summary>First samples that showed a connection's server socket with an inode (accepted by an application), in sample order.</summary>
    public List<OwnedSocket> SocketsOwned { get; } = new();

    /// <summary>A client program's sockets in the client host's table, at each change (state null: gone), sampled while its copies ran.</summary>
    public List<ClientSocketSample> ClientSockets { get; } = new();
    public ClientProgramProgress ClientProgress { get; } = new();

    /// <summary>The user's programs that ran in the lab (a server program, client programs), after they ended.</summary>
    public List<ProgramProcess> Programs { get; } = new();
}

/// <summary>A client program's socket as one sample of the client host's table saw it (State null: no longer there).</summary>
internal readonly record struct ClientSocketSample(long AtMicroseconds, IpEndpoint Client, TcpState? State);

/// <summary>A connection's server socket first seen with an inode: accepted at or before <see cref="AtMicroseconds"/>, after the sample before.</summary>
internal readonly record struct OwnedSocket(long AtMicroseconds, IpEndpoint Client, IpEndpoint Server);
