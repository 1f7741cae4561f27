using System.Runtime.CompilerServices;

namespace Halfway.Tests;

/// <summary>
/// Gives the test process's thread pool the free threads `halfway` has. The test host and xunit's runner each keep a
/// pool thread blocked for the whole run (the host's message loop polls its socket; the runner waits for the
/// assembly's tests), and on 2 cores the pool's minimum is 2: the lab's timers and socket callbacks then waited for
/// the pool to add a thread (one each 0.5 s when starved). A lab client paced at 20 ms stopped for 0.7 s, seen with
/// dotnet-stack in `LabTruthTests` (its connections 10-16 all started at +0.97 s instead of +0.27..0.39 s).
/// </summary>
internal static class ThreadPoolMinimum
{
    /// <summary>Pool threads the test host and xunit's runner keep blocked.</summary>
    private const int HeldByTheTestFramework = 2;

    [ModuleInitializer]
    internal static void Raise()
    {
        ThreadPool.GetMinThreads(out int workers, out int completion);
        // What the tool's own process starts with (one per core), on top of those the framework holds.
        int wanted = Environment.ProcessorCount + HeldByTheTestFramework;
        if (workers < wanted)
            ThreadPool.SetMinThreads(wanted, completion);
    }
}
