using System.Runtime.InteropServices;

namespace Halfway.Native;

/// <summary>
/// The libbpf calls the kernel witness needs (Debian's libbpf1, libbpf.so.1; 1.x API: NULL or a negative errno on
/// failure). Objects, programs, maps and links are only ever held by their fds inside libbpf, never pinned.
/// </summary>
internal static unsafe partial class Libbpf
{
    public const string Library = "libbpf.so.1";

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint bpf_object__open_mem(byte* buffer, nuint size, nint options);

    [LibraryImport(Library)]
    public static partial int bpf_object__load(nint obj);

    [LibraryImport(Library)]
    public static partial void bpf_object__close(nint obj);

    [LibraryImport(Library)]
    public static partial nint bpf_object__next_program(nint obj, nint previous);

    [LibraryImport(Library)]
    public static partial nint bpf_program__name(nint program);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint bpf_program__attach(nint program);

    [LibraryImport(Library)]
    public static partial int bpf_link__destroy(nint link);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint bpf_object__find_map_by_name(nint obj, string name);

    [LibraryImport(Library)]
    public static partial int bpf_map__fd(nint map);

    [LibraryImport(Library)]
    public static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Library)]
    public static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint ring_buffer__new(int mapFd, delegate* unmanaged<nint, nint, nuint, int> sample, nint context, nint options);

    [LibraryImport(Library)]
    public static partial int ring_buffer__poll(nint ringBuffer, int timeoutMs);

    [LibraryImport(Library)]
    public static partial void ring_buffer__free(nint ringBuffer);

    /// <summary>Replaces libbpf's printer (which writes verifier logs to stderr); NULL silences it.</summary>
    [LibraryImport(Library)]
    public static partial nint libbpf_set_print(nint printer);
}
