using System.Buffers.Binary;
using System.IO.Compression;
using Halfway.Native;

namespace Halfway.Capture;

/// <summary>
/// Streams the frames of a pcap or pcapng file (optionally gzip-compressed) through one reused buffer: no allocation
/// per frame. Damage stops the reading with a <see cref="CaptureWarning"/> that gives the byte offset; every frame
/// before it has been returned. Input that is not a capture at all throws a <see cref="HalfwayException"/>.
/// </summary>
internal sealed class CaptureReader : IDisposable
{
    /// <summary>Largest pcapng block or pcap record believed; a longer one is damage, not a packet.</summary>
    public const int MaxRecordLength = 16 * 1024 * 1024;
    private const int MaxWarnings = 50;
    private const uint PcapMicroMagic = 0xa1b2c3d4;
    private const uint PcapNanoMagic = 0xa1b23c4d;
    private const uint SectionHeaderType = 0x0a0d0d0a;
    private const uint ByteOrderMagic = 0x1a2b3c4d;

    /// <summary>Records handed to the fast path from a mapped file at most this many bytes at a time (a span's length is an int).</summary>
    private const int MappedWindow = 1 << 30;

    private Stream _stream;
    /// <summary>The file mapped into memory, read instead of the stream (a plain file only; see <see cref="TryBufferedPcap"/>).</summary>
    private MappedFile? _mapped;
    private readonly List<CaptureWarning> _warnings = [];
    private byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;
    private long _bufferFileOffset; // file offset of _buffer[0]
    private bool _endOfStream;
    private bool _stopped;
    private int _suppressedWarnings;

    // Classic pcap state.
    private bool _pcapSwapped;
    private long _pcapTickNanoseconds;
    private uint _pcapLinkType;
    private int _pcapSnapLength;

    // pcapng state: the current section's byte order and interfaces.
    private bool _ngBigEndian;
    private readonly List<InterfaceDescription> _interfaces = [];

    private int _frameStart;
    private int _frameLength;

    private readonly record struct InterfaceDescription(uint LinkType, int SnapLength, long NanosecondsPerTickNumerator, int TickShift, long TickDivisor, long OffsetSeconds, bool Supported);

    /// <param name="mapped">The same file's bytes mapped into memory: read there instead of through the stream (not owned: the caller unmaps it after this reader).</param>
    public CaptureReader(Stream stream, string name, MappedFile? mapped = null)
    {
        Name = name;
        _stream = stream;
        _mapped = mapped;
        try
        {
            (_stream, Compressed) = ReadStart(stream);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new HalfwayException($"{name}: cannot read the start of the file: {e.Message}", 2, e);
        }
    }

    private (Stream Stream, bool Compressed) ReadStart(Stream stream)
    {
        string name = Name;
        bool compressed = false;
        if (!Ensure(4))
        {
            if (_end == 0 && !stream.CanSeek)
                throw new HalfwayException($"{name}: no data: the pipe was closed before a capture header came (check that the writer runs and writes a capture: {(name == "standard input" ? "`tcpdump -w - | halfway explain -`" : $"`tcpdump -w {name}`")})");
            throw new HalfwayException($"{name}: not a capture file: it is {(_end == 0 ? "empty" : $"only {_end} bytes long")}");
        }
        if (IsGzip(_buffer.AsSpan(0, _end)))
        {
            // gzip: restart on the decompressed stream with the bytes already read put back in front.
            // A mapped file's stream has not been read: it starts at the start.
            var rest = _mapped is null ? new ConcatenatedStream(_buffer.AsSpan(0, _end).ToArray(), stream) : stream;
            _mapped = null;
            _stream = new GZipStream(rest, CompressionMode.Decompress);
            compressed = true;
            _start = _end = 0;
            _endOfStream = false;
            if (!Ensure(4))
                throw new HalfwayException($"{name}: a gzip file whose content is {(_end == 0 ? "empty" : "too short to be a capture")}");
        }
        ReadFileHeader();
        return (_stream, compressed);
    }

    /// <summary>True when the bytes start like a gzip stream (its magic number).</summary>
    public static bool IsGzip(ReadOnlySpan<byte> start) => start.Length >= 2 && start[0] == 0x1f && start[1] == 0x8b;

    /// <param name="length">Read only this many bytes of the file (its length when a first reader opened it), or all of it.</param>
    /// <param name="mapped">The file's first <paramref name="length"/> bytes mapped into memory, read there (see <see cref="MappedFile"/>).</param>
    public static CaptureReader Open(string path, long? length = null, MappedFile? mapped = null)
    {
        if (path == StandardInputName && !Console.IsInputRedirected)
            throw new HalfwayException("'-' reads a capture from standard input, which is a terminal here: pipe one into it (`tcpdump -w - | halfway explain -`) or give a file");
        if (path == StandardInputName)
            return new CaptureReader(Console.OpenStandardInput(1 << 16), "standard input");
        if (Directory.Exists(path))
            throw new HalfwayException($"{path}: is a directory, not a capture file; give the capture files in it (e.g. {Path.Join(path, "*.pcap")})");
        Stream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            if (length is { } bytes)
                file = new BoundedStream(file, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new HalfwayException($"{path}: cannot open: {e.Message}");
        }
        try
        {
            return new CaptureReader(file, path, mapped);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The file name that stands for standard input, read as a stream (`tcpdump -w - | halfway explain -`).</summary>
    public const string StandardInputName = "-";

    public string Name { get; }
    public CaptureFormat Format { get; private set; }
    public bool Compressed { get; private set; }
    public IReadOnlyList<CaptureWarning> Warnings => _warnings;
    /// <summary>True when part of the file could not be read (the reading stopped early or skipped something).</summary>
    public bool Damaged { get; private set; }
    public int SuppressedWarnings => _suppressedWarnings;

    /// <summary>Bytes consumed so far (of the decompressed data for gzip input).</summary>
    public long Position => _bufferFileOffset + _start;
    /// <summary>Frames returned so far.</summary>
    public long FrameNumber { get; private set; }

    // The current frame, valid until the next call to ReadNext.
    public long TimestampNanoseconds { get; private set; }
    public uint LinkType { get; private set; }
    public int OriginalLength { get; private set; }
    public long FrameOffset { get; private set; }
    public int InterfaceId { get; private set; }
    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(_frameStart, _frameLength);

    public void Warn(long offset, string message)
    {
        if (_warnings.Count < MaxWarnings)
            _warnings.Add(new CaptureWarning(Name, offset, Compressed ? message + " (offset in the decompressed data)" : message));
        else
            _suppressedWarnings++;
    }

    /// <summary>Advances to the next frame. False at the end of the file or at damage that stops the reading.</summary>
    public bool ReadNext()
    {
        if (_stopped)
            return false;
        bool ok;
        try
        {
            ok = Format == CaptureFormat.PcapNg ? ReadNextPcapNg() : ReadNextPcap();
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            Warn(Position, $"the file could not be read further: {e.Message}");
            Damaged = true;
            ok = false;
        }
        if (!ok)
            _stopped = true;
        else
            FrameNumber++;
        return ok;
    }

    /// <summary>
    /// For <see cref="PacketParser"/>'s fast path: the whole records of a classic pcap file in this machine's byte order
    /// that are already in the buffer, with what reading them needs (the fraction's unit, the largest record believed).
    /// False for any other format, or once the reading stopped. Records taken are given back to <see cref="Skip"/>.
    /// </summary>
    internal bool TryBufferedPcap(out ReadOnlySpan<byte> records, out long tickNanoseconds, out int recordLimit)
    {
        if (_stopped || _pcapSwapped || Format is not (CaptureFormat.PcapMicroseconds or CaptureFormat.PcapNanoseconds))
        {
            records = default;
            tickNanoseconds = recordLimit = 0;
            return false;
        }
        // From a mapped file the records are read where they lie; the buffer holds a copy of some (the general path's).
        if (_mapped is null)
            records = _buffer.AsSpan(_start, _end - _start);
        else
        {
            _mapped.ReleaseBefore(Position);
            records = _mapped.Span(Position, MappedWindow);
        }
        tickNanoseconds = _pcapTickNanoseconds;
        recordLimit = Math.Max(Math.Min(_pcapSnapLength, MaxRecordLength), 262144);
        return true;
    }

    /// <summary>The first <paramref name="frames"/> records of <see cref="TryBufferedPcap"/>, <paramref name="bytes"/> in all, were read.</summary>
    internal void Skip(int bytes, int frames)
    {
        if (bytes <= _end - _start)
            _start += bytes;
        else
        {
            // Past the buffer: only a mapped file's records can be (the buffer restarts there).
            _bufferFileOffset += _start + bytes;
            _start = _end = 0;
        }
        FrameNumber += frames;
    }

    /// <summary>The link type of a classic pcap file's frames.</summary>
    internal uint PcapLinkType => _pcapLinkType;

    private void ReadFileHeader()
    {
        uint magicLe = BinaryPrimitives.ReadUInt32LittleEndian(_buffer);
        uint magicBe = BinaryPrimitives.ReadUInt32BigEndian(_buffer);
        if (magicLe == SectionHeaderType)
        {
            Format = CaptureFormat.PcapNg;
            return; // the section header is read as the first block
        }
        if (magicLe is PcapMicroMagic or PcapNanoMagic || magicBe is PcapMicroMagic or PcapNanoMagic)
        {
            _pcapSwapped = magicLe is not (PcapMicroMagic or PcapNanoMagic);
            bool nanoseconds = (_pcapSwapped ? magicBe : magicLe) == PcapNanoMagic;
            Format = nanoseconds ? CaptureFormat.PcapNanoseconds : CaptureFormat.PcapMicroseconds;
            _pcapTickNanoseconds = nanoseconds ? 1 : 1000;
            if (!Ensure(24))
                throw new HalfwayException($"{Name}: a pcap file cut short inside its 24-byte header ({_end} bytes)");
            _pcapSnapLength = (int)Math.Min(ReadU32(_buffer.AsSpan(16), _pcapSwapped), int.MaxValue);
            _pcapLinkType = ReadU32(_buffer.AsSpan(20), _pcapSwapped) & 0x03ff_ffff; // upper bits: FCS length
            if (!LinkLayer.IsSupported(_pcapLinkType))
                throw new HalfwayException($"{Name}: unsupported link type {_pcapLinkType} ({LinkLayer.Name(_pcapLinkType)}); supported: Ethernet (with VLAN tags), Linux cooked SLL and SLL2, raw IP, BSD loopback");
            _start = 24;
            return;
        }
        if (magicLe == 0xa1b2cd34 || magicBe == 0xa1b2cd34)
            throw new HalfwayException($"{Name}: a Kuznetzov-modified pcap file, which is not supported: convert it with `editcap -F pcap`");
        throw new HalfwayException($"{Name}: not a pcap or pcapng capture (first bytes {Convert.ToHexString(_buffer, 0, Math.Min(_end, 4))})");
    }

    private bool ReadNextPcap()
    {
        long offset = Position;
        if (!Ensure(16))
        {
            if (_end > _start)
                Damage(offset, $"the file ends inside a record header ({_end - _start} of 16 bytes): truncated");
            return false;
        }
        var header = _buffer.AsSpan(_start, 16);
        uint seconds = ReadU32(header, _pcapSwapped);
        uint fraction = ReadU32(header[4..], _pcapSwapped);
        uint captured = ReadU32(header[8..], _pcapSwapped);
        uint original = ReadU32(header[12..], _pcapSwapped);
        int limit = Math.Max(Math.Min(_pcapSnapLength, MaxRecordLength), 262144);
        if (captured > limit)
        {
            Damage(offset, $"record claims {captured} captured bytes, more than the snapshot length ({_pcapSnapLength}): bad record header");
            return false;
        }
        if (!Ensure(16 + (int)captured))
        {
            Damage(offset, $"record claims {captured} bytes but the file ends after {_end - _start - 16}: truncated");
            return false;
        }
        TimestampNanoseconds = seconds * 1_000_000_000L + fraction * _pcapTickNanoseconds;
        LinkType = _pcapLinkType;
        OriginalLength = (int)Math.Min(Math.Max(original, captured), int.MaxValue);
        FrameOffset = offset;
        InterfaceId = 0;
        _frameStart = _start + 16;
        _frameLength = (int)captured;
        _start += 16 + (int)captured;
        return true;
    }

    private bool ReadNextPcapNg()
    {
        while (true)
        {
            long offset = Position;
            if (!Ensure(12))
            {
                if (_end > _start)
                    Damage(offset, $"the file ends inside a block header ({_end - _start} bytes left): truncated");
                return false;
            }
            var head = _buffer.AsSpan(_start, 12);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(head);
            if (type == SectionHeaderType)
            {
                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
                if (bom == ByteOrderMagic)
                    _ngBigEndian = false;
                else if (BinaryPrimitives.ReverseEndianness(bom) == ByteOrderMagic)
                    _ngBigEndian = true;
                else
                {
                    Damage(offset, "section header block with a bad byte-order magic");
                    return false;
                }
            }
            else
                type = ReadU32(head, _ngBigEndian);
            uint length = ReadU32(head[4..], _ngBigEndian);
            if (length < 12 || length % 4 != 0 || length > MaxRecordLength)
            {
                Damage(offset, $"bad block length {length} (block type 0x{type:x})");
                return false;
            }
            if (!Ensure((int)length))
            {
                Damage(offset, $"block claims {length} bytes but the file ends after {_end - _start}: truncated");
                return false;
            }
            var block = _buffer.AsSpan(_start, (int)length);
            if (ReadU32(block[^4..], _ngBigEndian) != length)
            {
                Damage(offset, $"block length {length} at the start does not match {ReadU32(block[^4..], _ngBigEndian)} at the end");
                return false;
            }
            int blockStart = _start;
            _start += (int)length;
            var body = block[8..^4];
            switch (type)
            {
                case SectionHeaderType:
                    _interfaces.Clear();
                    break;
                case 1:
                    if (!AddInterface(body, offset))
                        return false;
                    break;
                case 6 or 2 or 3:
                    if (ReadPacketBlock(type, body, blockStart + 8, offset))
                        return true;
                    break;
            }
        }
    }

    private bool AddInterface(ReadOnlySpan<byte> body, long offset)
    {
        if (body.Length < 8)
        {
            Damage(offset, "interface description block too short");
            return false;
        }
        uint linkType = ReadU16(body, _ngBigEndian);
        int snap = (int)Math.Min(ReadU32(body[4..], _ngBigEndian), int.MaxValue);
        byte resolution = 6;
        long offsetSeconds = 0;
        var options = body[8..];
        while (options.Length >= 4)
        {
            int code = ReadU16(options, _ngBigEndian);
            int len = ReadU16(options[2..], _ngBigEndian);
            if (code == 0 || 4 + len > options.Length)
                break;
            if (code == 9 && len >= 1)
                resolution = options[4];
            else if (code == 14 && len >= 8)
                offsetSeconds = (long)ReadU64(options[4..], _ngBigEndian);
            options = options[Math.Min(options.Length, 4 + ((len + 3) & ~3))..];
        }
        int shift = 0;
        long multiplier = 1, divisor = 1;
        if ((resolution & 0x80) != 0)
            shift = Math.Min(resolution & 0x7f, 62);
        else if (resolution <= 9)
            for (int i = resolution; i < 9; i++) multiplier *= 10;
        else
            for (int i = 9; i < Math.Min((int)resolution, 27); i++) divisor = divisor > long.MaxValue / 10 ? divisor : divisor * 10;
        bool supported = LinkLayer.IsSupported(linkType);
        if (!supported)
            Warn(offset, $"interface {_interfaces.Count} has unsupported link type {linkType} ({LinkLayer.Name(linkType)}): its packets are skipped");
        _interfaces.Add(new InterfaceDescription(linkType, snap, multiplier, shift, divisor, offsetSeconds, supported));
        if (supported)
            _anySupportedInterface = true;
        else
            _firstUnsupportedLinkType ??= linkType;
        return true;
    }

    private bool _anySupportedInterface;
    private uint? _firstUnsupportedLinkType;

    /// <summary>Set when every interface seen has an unsupported link type: the caller turns it into an error.</summary>
    public uint? UnsupportedOnly => _anySupportedInterface ? null : _firstUnsupportedLinkType;

    private bool ReadPacketBlock(uint type, ReadOnlySpan<byte> body, int bodyStart, long offset)
    {
        int interfaceId, headerLength;
        uint captured, original;
        ulong ticks = 0;
        if (type == 3)
        {
            // Simple packet block: interface 0, no timestamp; the captured length is what the block holds.
            if (body.Length < 4) { Skip(offset, "simple packet block too short"); return false; }
            interfaceId = 0;
            headerLength = 4;
            original = ReadU32(body, _ngBigEndian);
            captured = Math.Min(original, (uint)(body.Length - 4));
        }
        else
        {
            if (body.Length < 20) { Skip(offset, "packet block too short"); return false; }
            if (type == 6)
            {
                interfaceId = (int)Math.Min(ReadU32(body, _ngBigEndian), int.MaxValue);
            }
            else
            {
                interfaceId = ReadU16(body, _ngBigEndian);
            }
            ticks = ((ulong)ReadU32(body[4..], _ngBigEndian) << 32) | ReadU32(body[8..], _ngBigEndian);
            captured = ReadU32(body[12..], _ngBigEndian);
            original = ReadU32(body[16..], _ngBigEndian);
            headerLength = 20;
        }
        if (interfaceId >= _interfaces.Count)
        {
            Skip(offset, $"packet for interface {interfaceId}, but the section describes {_interfaces.Count}");
            return false;
        }
        if (captured > body.Length - headerLength)
        {
            Skip(offset, $"packet claims {captured} bytes but its block holds {body.Length - headerLength}");
            return false;
        }
        var description = _interfaces[interfaceId];
        if (!description.Supported)
            return false;
        if (type == 3 && description.SnapLength > 0)
            captured = Math.Min(captured, (uint)description.SnapLength);
        TimestampNanoseconds = ToNanoseconds(ticks, description);
        LinkType = description.LinkType;
        OriginalLength = (int)Math.Min(Math.Max(original, captured), int.MaxValue);
        FrameOffset = offset;
        InterfaceId = interfaceId;
        _frameStart = bodyStart + headerLength;
        _frameLength = (int)captured;
        return true;
    }

    private static long ToNanoseconds(ulong ticks, InterfaceDescription d)
    {
        long offset = d.OffsetSeconds * 1_000_000_000L;
        if (d.TickShift > 0)
            return (long)(((UInt128)ticks * 1_000_000_000UL) >> d.TickShift) + offset;
        if (d.TickDivisor > 1)
            return (long)(ticks / (ulong)d.TickDivisor) + offset;
        return (long)(ticks * (ulong)d.NanosecondsPerTickNumerator) + offset;
    }

    private void Skip(long offset, string message)
    {
        Warn(offset, message + ": block skipped");
        Damaged = true;
    }

    private void Damage(long offset, string message)
    {
        Warn(offset, message);
        Damaged = true;
    }

    /// <summary>Makes <paramref name="count"/> bytes available from _start; false if the stream ends first.</summary>
    private bool Ensure(int count)
    {
        if (_end - _start >= count)
            return true;
        if (count > _buffer.Length)
        {
            var bigger = new byte[Math.Max(count, _buffer.Length * 2)];
            Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
            _bufferFileOffset += _start;
            _end -= _start;
            _start = 0;
            _buffer = bigger;
        }
        else if (_start > 0 && _buffer.Length - _start < count)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferFileOffset += _start;
            _end -= _start;
            _start = 0;
        }
        while (_end - _start < count && !_endOfStream)
        {
            int n = _mapped is null ? _stream.Read(_buffer, _end, _buffer.Length - _end) : ReadMapped(_buffer.AsSpan(_end));
            if (n == 0)
                _endOfStream = true;
            _end += n;
        }
        return _end - _start >= count;
    }

    private int ReadMapped(Span<byte> destination)
    {
        _mapped!.ReleaseBefore(_bufferFileOffset + _start);
        var source = _mapped.Span(_bufferFileOffset + _end, destination.Length);
        source.CopyTo(destination);
        return source.Length;
    }

    private static uint ReadU32(ReadOnlySpan<byte> span, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);

    private static ushort ReadU16(ReadOnlySpan<byte> span, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);

    private static ulong ReadU64(ReadOnlySpan<byte> span, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(span) : BinaryPrimitives.ReadUInt64LittleEndian(span);

    public void Dispose()
    {
        _stream.Dispose();
    }
}
