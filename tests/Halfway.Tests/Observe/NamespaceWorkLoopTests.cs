using Halfway.Lab;
using Halfway.Observe;

namespace Halfway.Tests.Observe;

/// <summary>One work loop for lab hosts and entered namespaces: work called from the loop's own thread runs inline.</summary>
public sealed class NamespaceWorkLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Run_from_the_loop_thread_runs_inline()
    {
        using var loop = new NamespaceWorkLoop("test-loop", TimeSpan.FromSeconds(1));
        loop.Start(() => true);
        var nested = Task.Run(() => loop.Run(() => (loop.IsCurrentThread, loop.Run(() => Environment.CurrentManagedThreadId), Environment.CurrentManagedThreadId)));
        // WaitAsync throws TimeoutException when the call waits on itself.
        var (onLoop, inner, outer) = await nested.WaitAsync(Bound);
        Assert.True(onLoop);
        Assert.Equal(outer, inner);
    }

    [Fact]
    public void A_failed_enter_takes_no_work_and_exceptions_reach_the_caller()
    {
        using var failed = new NamespaceWorkLoop("test-failed", TimeSpan.FromSeconds(1));
        failed.Start(() => false);
        failed.Complete();
        Assert.Throws<InvalidOperationException>(() => failed.Run(() => 1));

        using var loop = new NamespaceWorkLoop("test-throws", TimeSpan.FromSeconds(1));
        loop.Start(() => true);
        Assert.Equal("boom", Assert.Throws<IOException>(() => loop.Run<int>(() => throw new IOException("boom"))).Message);
        Assert.Equal(2, loop.Run(() => 2));
    }

    [Fact]
    public void Leave_runs_on_the_thread_after_the_last_item()
    {
        int loopThread = 0, leftOn = -1;
        var left = new ManualResetEventSlim();
        var loop = new NamespaceWorkLoop("test-leave", TimeSpan.FromSeconds(1));
        loop.Start(() => true, () => { leftOn = Environment.CurrentManagedThreadId; left.Set(); });
        loopThread = loop.Run(() => Environment.CurrentManagedThreadId);
        loop.Dispose();
        Assert.True(left.Wait(Bound));
        Assert.Equal(loopThread, leftOn);
    }

    /// <summary>Before the shared loop, NamespaceThread had no shortcut: this deadlocked.</summary>
    [LabFact]
    public async Task Namespace_thread_run_from_its_own_thread_completes()
    {
        using var thread = NamespaceThread.Enter($"/proc/{Environment.ProcessId}/ns/net");
        var nested = Task.Run(() => thread.Run(() => thread.Run(() => 42)));
        Assert.Equal(42, await nested.WaitAsync(Bound));
    }

    [LabFact]
    public async Task Lab_host_run_from_its_own_thread_completes()
    {
        using var host = LabHost.Create("loop-nested");
        var nested = Task.Run(() => host.Run(() => host.Run(() => host.ReadProcNet("netstat").Length)));
        Assert.True(await nested.WaitAsync(Bound) > 0);
    }
}
