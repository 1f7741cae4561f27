namespace Halfway.Observe;

/// <summary>What a client's call returned.</summary>
internal enum CallResult
{
    /// <summary>The call succeeded (connect returned, send copied, the wait ended).</summary>
    Ok,
    /// <summary>receive returned bytes from the server's application.</summary>
    Data,
    /// <summary>receive returned 0: the peer closed (or a reset was already reported to an earlier call).</summary>
    Eof,
    /// <summary>ECONNRESET: the peer's RST reached the socket.</summary>
    Reset,
    /// <summary>The step's own timeout, or the kernel's (ETIMEDOUT).</summary>
    Timeout,
    /// <summary>ECONNREFUSED: the SYN was answered with a RST.</summary>
    Refused,
    /// <summary>The run's duration bound, or an interrupt, ended the call.</summary>
    Cancelled,
    /// <summary>Any other failure (the errno says which).</summary>
    Error,
}
