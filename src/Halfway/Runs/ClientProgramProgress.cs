namespace Halfway.Runs;

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
