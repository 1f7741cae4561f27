namespace Halfway.Analysis;

/// <summary>Where a timeline entry happened: the client's calls, a packet on the wire in one direction, or the server's side.</summary>
internal enum TimelineColumn
{
    Client,
    WireToServer,
    WireToClient,
    Server,
}
