namespace Halfway.Observe;

/// <summary>What the server application did with a connection.</summary>
internal enum ServerEventKind
{
    Accepted,
    AcceptFailed,
    Greeted,
    Received,
    Replied,
    Closed,
    Reset,
    Error,
}
