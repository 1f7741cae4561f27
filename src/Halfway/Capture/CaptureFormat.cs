namespace Halfway.Capture;

/// <summary>The container format of a capture file, recognised by its first bytes, never by its name.</summary>
internal enum CaptureFormat
{
    /// <summary>Classic pcap with microsecond timestamps.</summary>
    PcapMicroseconds,
    /// <summary>Classic pcap with nanosecond timestamps (magic 0xa1b23c4d).</summary>
    PcapNanoseconds,
    /// <summary>pcapng: sections of blocks, several interfaces, per-interface link type and timestamp resolution.</summary>
    PcapNg,
}
