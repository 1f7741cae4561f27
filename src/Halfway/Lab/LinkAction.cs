namespace Halfway.Lab;

/// <summary>What the link did with a packet.</summary>
internal enum LinkAction
{
    Passed,

    /// <summary>Dropped on purpose (a drop rule, random loss) or because writing it to the receiver's TUN device failed.</summary>
    Dropped,

    /// <summary>
    /// Still waiting out its delay when the lab stopped: never delivered, but no drop either. A delay of hundreds of
    /// milliseconds leaves many such packets, and counting them as drops would invent losses nobody asked for.
    /// </summary>
    InFlight,
}
