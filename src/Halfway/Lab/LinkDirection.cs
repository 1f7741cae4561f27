namespace Halfway.Lab;

/// <summary>Which way a packet crosses the link.</summary>
internal enum LinkDirection
{
    ClientToServer,
    ServerToClient,
}
