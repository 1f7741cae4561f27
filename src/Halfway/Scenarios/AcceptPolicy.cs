namespace Halfway.Scenarios;

/// <summary>When the application calls accept(): a mode, a start delay and paused windows.</summary>
internal sealed record AcceptPolicy
{
    public AcceptMode Mode { get; init; } = AcceptMode.Immediately;
    public double Rate { get; init; }
    public TimeSpan StartAfter { get; init; }
    public IReadOnlyList<(TimeSpan From, TimeSpan Until)> Pauses { get; init; } = [];

    /// <summary>Concurrent accept loops (the seed's server had 4 acceptor threads).</summary>
    public int Acceptors { get; init; } = 1;

    public override string ToString()
    {
        string text = Mode switch
        {
            AcceptMode.Never => "never accepts",
            AcceptMode.Rate => $"accepts {Rate:0.##}/s",
            _ => $"accepts immediately ({Acceptors} acceptor{(Acceptors == 1 ? "" : "s")})",
        };
        if (StartAfter > TimeSpan.Zero) text += $", from +{StartAfter.TotalSeconds:0.###} s";
        foreach (var (from, until) in Pauses) text += $", paused +{from.TotalSeconds:0.###}..+{until.TotalSeconds:0.###} s";
        return text;
    }
}
