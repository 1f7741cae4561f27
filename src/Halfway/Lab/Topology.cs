namespace Halfway.Lab;

/// <summary>How the lab's hosts are joined.</summary>
internal enum Topology
{
    /// <summary>Client and server share one host and talk over its loopback.</summary>
    Single,

    /// <summary>A client host and a server host joined by a <see cref="TunLink"/>.</summary>
    Pair,
}
