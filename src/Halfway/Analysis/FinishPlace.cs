namespace Halfway.Analysis;

/// <summary>
/// Where in a packet stream an engine fed with the caller's time finished a connection (see
/// <see cref="AnalysisEngine.TakeTimeFromCaller"/>): in a sweep before the packet of ordinal <see cref="Ordinal"/>
/// (connections finished together in the order they started), or by that packet itself (<see cref="AtPacket"/>: it
/// reused the 4-tuple, or acknowledged the connection's last FIN). Engines fed the same stream finish their connections in the order of their places, which
/// is the order one engine fed the whole stream would have finished them in.
/// </summary>
internal readonly record struct FinishPlace(long Ordinal, bool AtPacket, long FirstAt, long Serial)
{
    /// <summary>Before <paramref name="other"/> in one engine's order.</summary>
    public bool Precedes(in FinishPlace other)
    {
        if (Ordinal != other.Ordinal)
            return Ordinal < other.Ordinal;
        if (AtPacket != other.AtPacket)
            return !AtPacket; // the sweep runs before the packet
        return FirstAt != other.FirstAt ? FirstAt < other.FirstAt : Serial < other.Serial;
    }
}
