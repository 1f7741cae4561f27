using Halfway.Wire;

namespace Halfway.Traffic;

/// <summary>One client connection: its addresses and every step's result.</summary>
internal sealed class ClientConnection(int id, IpEndpoint server)
{
    public int Id { get; } = id;
    public IpEndpoint Server { get; } = server;
    public IpEndpoint? Local { get; set; }
    public double? ConnectStartedAtMs { get; set; }
    public double? ConnectedAtMs { get; set; }
    public List<StepResult> Steps { get; } = new();
    public bool Finished { get; set; }
}
