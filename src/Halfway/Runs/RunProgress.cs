namespace Halfway.Runs;

/// <summary>A scenario's progress at one moment, for live display.</summary>
internal sealed record RunProgress(string Scenario, double ElapsedMs, double BoundMs, int Total, int Connected, long Accepted, int Finished, string Phase)
{
    /// <summary>For client programs, whose calls halfway does not see: their copies and the client kernel's sockets. Null for the built-in client.</summary>
    public ClientProgramProgress.Snapshot? Programs { get; init; }
}

/// <summary>What the client host's table has shown of the client programs' connections so far, and how many copies still run.</summary>
internal sealed class ClientProgramProgress
{
    private readonly HashSet<Wire.IpEndpoint> _seen = new();
    private readonly HashSet<Wire.IpEndpoint> _established = new();
    private volatile int _running;

    public int Running { get => _running; set => _running = value; }

    public void Saw(Wire.IpEndpoint client, bool established)
    {
        lock (_seen)
        {
            _seen.Add(client);
            if (established)
                _established.Add(client);
        }
    }

    public Snapshot Now(int copies)
    {
        lock (_seen)
            return new Snapshot(Running, copies, _seen.Count, _established.Count);
    }

    public sealed record Snapshot(int Running, int Copies, int Connections, int Established);
}
