namespace Halfway.Observe;

/// <summary>The names the reports print for observation values: lower case, words joined by '-' ("accept-failed").</summary>
internal static class ObservationNames
{
    public static string Name(this ClientStep step) => step switch
    {
        ClientStep.Connect => "connect",
        ClientStep.Wait => "wait",
        ClientStep.Send => "send",
        ClientStep.Receive => "receive",
        ClientStep.Close => "close",
        ClientStep.Shutdown => "shutdown",
        _ => step.ToString().ToLowerInvariant(),
    };

    public static string Name(this CallResult result) => result switch
    {
        CallResult.Ok => "ok",
        CallResult.Data => "data",
        CallResult.Eof => "eof",
        CallResult.Reset => "reset",
        CallResult.Timeout => "timeout",
        CallResult.Refused => "refused",
        CallResult.Cancelled => "cancelled",
        CallResult.Error => "error",
        _ => result.ToString().ToLowerInvariant(),
    };

    public static string Name(this ServerEventKind kind) => kind switch
    {
        ServerEventKind.Accepted => "accepted",
        ServerEventKind.AcceptFailed => "accept-failed",
        ServerEventKind.Greeted => "greeted",
        ServerEventKind.Received => "received",
        ServerEventKind.Replied => "replied",
        ServerEventKind.Closed => "closed",
        ServerEventKind.Reset => "reset",
        ServerEventKind.Error => "error",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
