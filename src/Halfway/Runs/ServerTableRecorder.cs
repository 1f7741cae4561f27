using Halfway.Analysis;
using Halfway.Lab;
using Halfway.Observe;
using Halfway.Wire;

namespace Halfway.Runs;

/// <summary>Starts a <see cref="ServerTableSampler"/> on the server host and records what it sees into the run.</summary>
internal sealed class ServerTableRecorder : IServerTableSink
{
    private readonly ScenarioRun _run;

    private ServerTableRecorder(ScenarioRun run) => _run = run;

    /// <summary>Null (and a warning in the run) when the socket table cannot be read.</summary>
    public static ServerTableSampler? TryStart(LabHost server, int port, LabClock clock, ScenarioRun run)
    {
        try
        {
            var table = server.Run(() => new SocketTable());
            run.ServerTableObserved = true;
            return new ServerTableSampler(table, port, () => clock.NowMicroseconds, new ServerTableRecorder(run));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            run.Warnings.Add($"the server's socket table could not be read ({e.Message}): fates rest on packets and socket calls only");
            return null;
        }
    }

    public void SocketChanged(long atMicroseconds, IpEndpoint client, IpEndpoint server, TcpState? state, int retransmits) =>
        _run.ServerSockets.Add(new ServerSocketObservation(atMicroseconds, client, server, state, retransmits));

    public void SocketOwned(long atMicroseconds, IpEndpoint client, IpEndpoint server)
    {
        lock (_run.SocketsOwned)
            _run.SocketsOwned.Add(new OwnedSocket(atMicroseconds, client, server));
    }

    public void ListenerSampled(double atMilliseconds, uint acceptQueue, uint acceptQueueLimit, int synRecv, uint drops) =>
        _run.AcceptQueueSamples.Add(new AcceptQueueSample(atMilliseconds, acceptQueue, acceptQueueLimit, synRecv, drops));

    public void Sampled(long atMicroseconds, TimeSpan cpuTime)
    {
        _run.ServerTableSampleTimes.Add(atMicroseconds);
        _run.ServerTableSamplingTime += cpuTime;
    }
}
