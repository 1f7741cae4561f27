namespace Halfway.Observe;

/// <summary>A client socket call, as a scenario names it and as its observation reports it.</summary>
public enum ClientStep
{
    Connect,
    Wait,
    Send,
    Receive,
    Close,
    Shutdown,
}
