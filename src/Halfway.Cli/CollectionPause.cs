using System.Runtime;

namespace Halfway.Cli;

/// <summary>
/// Holds off the garbage collector while a capture is analysed, for the first <see cref="Budget"/> bytes allocated.
/// </summary>
/// <remarks>
/// The analysis recycles its flows and allocates little garbage, but its big arrays (event slabs, flow and tombstone
/// tables) soon exceed the large object heap's budget, and the collector then runs full blocking collections that stop
/// both analysing threads to mark what is all still alive: on a 2-million-packet capture two of them, 2-8 ms of a
/// 0.16 s run. Past the budget the collector works as usual, so memory stays bounded on captures of any size; the
/// cost is at most the budget in garbage not collected meanwhile. Only in the process started from the command line:
/// a window is process-wide, and tests run commands side by side in one process.
/// </remarks>
internal sealed class CollectionPause : IDisposable
{
    public const long Budget = 64L << 20;

    private readonly bool _started;

    private CollectionPause(bool started) => _started = started;

    public static CollectionPause Start()
    {
        if (!Program.OwnsStandardOutput)
            return new CollectionPause(false);
        try
        {
            return new CollectionPause(GC.TryStartNoGCRegion(Budget));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            return new CollectionPause(false); // already in a window, or the runtime cannot give this much: collect as usual
        }
    }

    public void Dispose()
    {
        // Past the budget the runtime has left the window by itself (and ending it then would throw).
        if (_started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            GC.EndNoGCRegion();
    }
}
