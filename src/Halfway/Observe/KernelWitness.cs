using System.Diagnostics;
using System.Reflection;
using Halfway.Native;
using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>
/// The server kernel's witness: its tracepoints (drops with reasons, SYN-ACK re-sends, RSTs) for one network namespace,
/// as <see cref="KernelEventObservation"/>s. Reason names come from the running kernel's BTF, since the numbers move
/// between kernel versions. Where the witness cannot run, <see cref="TryStart"/> says why in one line.
/// </summary>
internal sealed class KernelWitness : IDisposable
{
    /// <summary>Points at another BPF object file (tests use it to show what happens when the object is missing).</summary>
    public const string ObjectVariable = "HALFWAY_WITNESS_OBJECT";

    private readonly Func<long, long> _toMicroseconds;
    private readonly Func<IpEndpoint, IpEndpoint, bool> _localIsServer;
    private readonly Action<KernelEventObservation>? _sink;
    private readonly List<KernelEventObservation> _events = new();
    private readonly Dictionary<long, string>? _dropReasons;
    private readonly Dictionary<long, string>? _resetReasons;
    private BpfWitness? _bpf;

    private KernelWitness(Func<long, long> toMicroseconds, Func<IpEndpoint, IpEndpoint, bool> localIsServer, Action<KernelEventObservation>? sink)
    {
        _toMicroseconds = toMicroseconds;
        _localIsServer = localIsServer;
        _sink = sink;
        _dropReasons = KernelEnum("skb_drop_reason", "SKB_DROP_REASON_");
        _resetReasons = KernelEnum("sk_rst_reason", "SK_RST_REASON_");
    }

    /// <summary>The kernel's names for an enum; none (events then show the number) when its BTF cannot be read.</summary>
    private static Dictionary<long, string>? KernelEnum(string name, string prefix)
    {
        try
        {
            return BtfEnum.ReadKernel(name, prefix);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Events the kernel could not hand over (its ring buffer was full): a count, so a report never says less silently.</summary>
    public ulong Lost => _bpf?.Lost ?? 0;

    /// <summary>
    /// Starts watching the namespace with inode <paramref name="namespaceInode"/> (0: all). <paramref name="toMicroseconds"/>
    /// turns a CLOCK_MONOTONIC time in ns into the caller's clock; <paramref name="localIsServer"/> says whether the
    /// kernel's own end of an event (local, remote) is the server's. Events go to <paramref name="sink"/> on the witness's
    /// thread, or are kept for <see cref="Stop"/>. <paramref name="listenerDropsOnly"/>: only drops a listener made (the
    /// kernel then skips every other event). Null, with <paramref name="whyNot"/>, when it cannot run.
    /// </summary>
    public static KernelWitness? TryStart(uint namespaceInode, Func<long, long> toMicroseconds, Func<IpEndpoint, IpEndpoint, bool>? localIsServer,
        Action<KernelEventObservation>? sink, out string? whyNot, bool listenerDropsOnly = false)
    {
        byte[]? bytes = ReadObject(out whyNot);
        if (bytes is null)
            return null;
        var witness = new KernelWitness(toMicroseconds, localIsServer ?? ((_, _) => true), sink);
        witness._bpf = BpfWitness.TryStart(bytes, namespaceInode, listenerDropsOnly, witness.OnEvent, out whyNot);
        return witness._bpf is null ? null : witness;
    }

    /// <summary>Converts a monotonic kernel time (ns) to <see cref="Stopwatch"/> ticks: both read CLOCK_MONOTONIC here.</summary>
    public static long MonotonicNanosecondsToStopwatch(long nanoseconds) =>
        Stopwatch.Frequency == 1_000_000_000 ? nanoseconds : (long)(nanoseconds * (Stopwatch.Frequency / 1e9));

    /// <summary>The inode of the calling thread's network namespace (what the witness filters on): the link reads "net:[N]".</summary>
    public static uint CurrentNamespaceInode()
    {
        string target = new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? "";
        int open = target.IndexOf('['), close = target.IndexOf(']');
        return open >= 0 && close > open && uint.TryParse(target.AsSpan(open + 1, close - open - 1), out uint inode)
            ? inode
            : throw new IOException($"/proc/thread-self/ns/net reads '{target}', not net:[inode]");
    }

    private static byte[]? ReadObject(out string? whyNot)
    {
        whyNot = null;
        if (Environment.GetEnvironmentVariable(ObjectVariable) is { Length: > 0 } path)
        {
            try
            {
                return File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                whyNot = $"the witness's BPF object {path} ({ObjectVariable}) could not be read: {e.Message}";
                return null;
            }
        }
        using var stream = typeof(KernelWitness).Assembly.GetManifestResourceStream("bpf/witness.bpf.o");
        if (stream is null)
        {
            whyNot = "this build has no BPF object for the witness (no clang when it was built): install clang and rebuild";
            return null;
        }
        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>The kernel's name for a drop reason, or its number when this kernel's BTF does not name it.</summary>
    public string DropReasonName(uint reason) => _dropReasons?.GetValueOrDefault(reason) ?? $"reason {reason}";

    private unsafe void OnEvent(WitnessEventLayout e)
    {
        bool v6 = e.Family == 10;
        var local = Endpoint(e.LocalAddress, e.LocalPort, v6);
        var remote = Endpoint(e.RemoteAddress, e.RemotePort, v6);
        var kind = e.Kind switch
        {
            WitnessEventLayout.KindDrop => KernelEventKind.PacketDropped,
            WitnessEventLayout.KindSynAck => KernelEventKind.SynAckRetransmitted,
            WitnessEventLayout.KindResetSent => KernelEventKind.ResetSent,
            _ => KernelEventKind.ResetReceived,
        };
        string? reason = kind switch
        {
            KernelEventKind.PacketDropped => DropReasonName(e.Reason),
            KernelEventKind.ResetSent => _resetReasons?.GetValueOrDefault(e.Reason) ?? $"reason {e.Reason}",
            _ => null,
        };
        bool localIsServer = _localIsServer(local, remote);
        long at = _toMicroseconds(MonotonicNanosecondsToStopwatch((long)e.AtNanoseconds));
        var observation = new KernelEventObservation(at, localIsServer ? remote : local, localIsServer ? local : remote, kind, reason)
        {
            Flags = kind is KernelEventKind.PacketDropped or KernelEventKind.ResetSent && e.TcpFlags != 0 ? (TcpFlags)e.TcpFlags : null,
            Listener = e.HasListener != 0
                ? new KernelListenerState(Endpoint(e.ListenerAddress, e.ListenerPort, v6), e.AcceptQueueLength, e.AcceptQueueLimit)
                : null,
            FromClient = localIsServer,
        };
        if (_sink is not null)
        {
            _sink(observation);
            return;
        }
        lock (_events)
            _events.Add(observation);
    }

    private static unsafe IpEndpoint Endpoint(byte* address, ushort port, bool v6) =>
        v6 ? IpEndpoint.FromV6(new ReadOnlySpan<byte>(address, 16), port) : IpEndpoint.FromV4(new ReadOnlySpan<byte>(address, 4), port);

    /// <summary>Hands over every event written so far, and stops watching.</summary>
    public List<KernelEventObservation> Stop()
    {
        _bpf?.Drain();
        lock (_events)
            return _events.OrderBy(e => e.AtMicroseconds).ToList();
    }

    public void Dispose() => _bpf?.Dispose();
}
