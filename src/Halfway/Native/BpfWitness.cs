using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>
/// The loaded witness program (bpf/witness.bpf.c): its four tracepoint programs attached, its namespace filter set,
/// and a thread that drains its ring buffer into <see cref="OnEvent"/>. Everything is held by libbpf's fds and closed on
/// <see cref="Dispose"/>; nothing is pinned, so a crash leaves nothing behind.
/// </summary>
internal sealed unsafe class BpfWitness : IDisposable
{
    private readonly Action<WitnessEventLayout> _onEvent;
    private readonly List<nint> _links = new();
    private nint _object;
    private nint _ringBuffer;
    private int _lostFd = -1;
    private GCHandle _self;
    private Thread? _poller;
    private volatile bool _stopping;

    private BpfWitness(Action<WitnessEventLayout> onEvent) => _onEvent = onEvent;

    /// <summary>Called on the witness's own thread, in the order the kernel wrote the events.</summary>
    public Action<WitnessEventLayout> OnEvent => _onEvent;

    /// <summary>Events the kernel could not put in the ring buffer (it was full).</summary>
    public ulong Lost
    {
        get
        {
            if (_lostFd < 0)
                return 0;
            uint key = 0;
            ulong value = 0;
            return Libbpf.bpf_map_lookup_elem(_lostFd, &key, &value) == 0 ? value : 0;
        }
    }

    /// <summary>
    /// Loads <paramref name="objectBytes"/>, filters to the network namespace with inode <paramref name="namespaceInode"/>
    /// (0: every namespace) and, with <paramref name="listenerDropsOnly"/>, to drops whose socket is a listener; attaches.
    /// Returns null with one line saying what is missing when it cannot.
    /// </summary>
    public static BpfWitness? TryStart(byte[] objectBytes, uint namespaceInode, bool listenerDropsOnly, Action<WitnessEventLayout> onEvent, out string? whyNot)
    {
        var witness = new BpfWitness(onEvent);
        try
        {
            whyNot = witness.Start(objectBytes, namespaceInode, listenerDropsOnly);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            whyNot = $"{Libbpf.Library} could not be loaded ({e.GetType().Name}): install Debian's libbpf1";
        }
        if (whyNot is null)
            return witness;
        witness.Dispose();
        return null;
    }

    private string? Start(byte[] objectBytes, uint namespaceInode, bool listenerDropsOnly)
    {
        // libbpf prints verifier logs to stderr; the caller says in one line what failed instead.
        if (Environment.GetEnvironmentVariable("HALFWAY_WITNESS_DEBUG") is null)
            Libbpf.libbpf_set_print(0);
        fixed (byte* bytes = objectBytes)
            _object = Libbpf.bpf_object__open_mem(bytes, (nuint)objectBytes.Length, 0);
        if (_object == 0)
            return $"the witness's BPF object could not be opened: {Libc.Describe(Marshal.GetLastSystemError())}";
        int loaded = Libbpf.bpf_object__load(_object);
        if (loaded < 0)
            return -loaded == Libc.EPERM
                ? "loading BPF programs was refused (EPERM): the witness needs root, or CAP_BPF and CAP_PERFMON"
                : $"the kernel refused the witness's BPF programs: {Libc.Describe(-loaded)} (HALFWAY_WITNESS_DEBUG=1 shows libbpf's log)";
        int configFd = MapFd("config"), ringFd = MapFd("events");
        _lostFd = MapFd("lost");
        if (configFd < 0 || ringFd < 0 || _lostFd < 0)
            return "the witness's BPF object lacks its maps (config, events, lost): it was built from other sources";
        uint key = 0;
        // struct witness_config { __u32 netns; __u32 listener_drops_only; }, little-endian.
        ulong config = namespaceInode | (listenerDropsOnly ? 1UL << 32 : 0);
        if (Libbpf.bpf_map_update_elem(configFd, &key, &config, 0) is int updated and < 0)
            return $"the witness's namespace filter could not be set: {Libc.Describe(-updated)}";
        _self = GCHandle.Alloc(this);
        _ringBuffer = Libbpf.ring_buffer__new(ringFd, &OnSample, GCHandle.ToIntPtr(_self), 0);
        if (_ringBuffer == 0)
            return $"the witness's ring buffer could not be mapped: {Libc.Describe(Marshal.GetLastSystemError())}";
        for (nint program = Libbpf.bpf_object__next_program(_object, 0); program != 0; program = Libbpf.bpf_object__next_program(_object, program))
        {
            nint link = Libbpf.bpf_program__attach(program);
            if (link == 0)
                return $"the witness's program {Marshal.PtrToStringUTF8(Libbpf.bpf_program__name(program))} could not be attached: {Libc.Describe(Marshal.GetLastSystemError())}";
            _links.Add(link);
        }
        _poller = new Thread(Poll) { IsBackground = true, Name = "kernel witness" };
        _poller.Start();
        return null;
    }

    private int MapFd(string name)
    {
        nint map = Libbpf.bpf_object__find_map_by_name(_object, name);
        return map == 0 ? -1 : Libbpf.bpf_map__fd(map);
    }

    private void Poll()
    {
        // Bounded by Dispose: each poll waits at most 50 ms, so stopping takes at most that long.
        while (!_stopping)
        {
            int n = Libbpf.ring_buffer__poll(_ringBuffer, 50);
            if (n < 0 && -n != Libc.EINTR)
                break;
        }
    }

    /// <summary>Waits until every event the kernel wrote before this call has been handed to <see cref="OnEvent"/>.</summary>
    public void Drain()
    {
        if (_poller is null || _stopping)
            return;
        _stopping = true;
        _poller.Join();
        _poller = null;
        // What was written while the thread stopped.
        Libbpf.ring_buffer__poll(_ringBuffer, 0);
    }

    [UnmanagedCallersOnly]
    private static int OnSample(nint context, nint data, nuint size)
    {
        try
        {
            if (size < WitnessEventLayout.Size)
                return 0;
            var witness = (BpfWitness)GCHandle.FromIntPtr(context).Target!;
            witness._onEvent(*(WitnessEventLayout*)data);
        }
        catch
        {
            // An exception must not unwind into libbpf; a handler that throws loses its event, not the process.
        }
        return 0;
    }

    public void Dispose()
    {
        _stopping = true;
        _poller?.Join();
        _poller = null;
        foreach (nint link in _links)
            Libbpf.bpf_link__destroy(link);
        _links.Clear();
        if (_ringBuffer != 0)
            Libbpf.ring_buffer__free(_ringBuffer);
        _ringBuffer = 0;
        if (_object != 0)
            Libbpf.bpf_object__close(_object);
        _object = 0;
        _lostFd = -1;
        if (_self.IsAllocated)
            _self.Free();
    }
}
