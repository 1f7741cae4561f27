namespace Halfway.Lab;

/// <summary>Which way a packet crosses the link.</summary>
public enum LinkDirection
{
    ClientToServer,
    ServerToClient,
}
