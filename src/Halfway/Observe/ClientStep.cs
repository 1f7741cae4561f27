namespace Halfway.Observe;

/// <summary>A client socket call, as a scenario names it and as its observation reports it.</summary>
internal enum ClientStep
{
    Connect,
    Wait,
    Send,
    Receive,
    Close,
    Shutdown,
}
