namespace Halfway.Scenarios;

internal enum AcceptMode
{
    /// <summary>As fast as the acceptors can.</summary>
    Immediately,

    /// <summary>Never calls accept(): the queue fills and stays full.</summary>
    Never,

    /// <summary>At most Rate connections per second: an overloaded server.</summary>
    Rate,
}
