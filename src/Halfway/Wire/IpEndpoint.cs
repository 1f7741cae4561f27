using System.Buffers.Binary;
using System.Net;

namespace Halfway.Wire;

/// <summary>An IPv4 or IPv6 address and a port, as a value that allocates nothing (IPv4 is stored mapped).</summary>
/// <remarks>
/// The address is stored as two 64-bit halves, not as a UInt128 field: the precompiler (ReadyToRun) leaves out every
/// method whose types' layout depends on UInt128 (its layout is not fixed across .NET versions), so with such a field
/// every method that handled an endpoint, a segment or a flow was JIT-compiled at start-up (about 60 of them for
/// `explain`). Code that wants the whole address still gets a UInt128 from <see cref="Address"/>.
/// </remarks>
internal readonly record struct IpEndpoint
{
    public IpEndpoint(UInt128 address, ushort port, bool isV6) : this((ulong)(address >> 64), (ulong)address, port, isV6)
    {
    }

    public IpEndpoint(ulong addressHigh, ulong addressLow, ushort port, bool isV6)
    {
        AddressHigh = addressHigh;
        AddressLow = addressLow;
        Port = port;
        IsV6 = isV6;
    }

    public ulong AddressHigh { get; }
    public ulong AddressLow { get; }
    public ushort Port { get; init; }
    public bool IsV6 { get; init; }
    public UInt128 Address => new(AddressHigh, AddressLow);

    /// <summary>The same address (not the port): compares the halves, no UInt128 needed.</summary>
    public bool SameAddress(in IpEndpoint other) => AddressLow == other.AddressLow && AddressHigh == other.AddressHigh;

    public static IpEndpoint FromV4(ReadOnlySpan<byte> address, ushort port) =>
        new(0, 0xffffUL << 32 | BinaryPrimitives.ReadUInt32BigEndian(address), port, false);

    public static IpEndpoint FromV6(ReadOnlySpan<byte> address, ushort port) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]), port, true);

    public static IpEndpoint From(IPEndPoint endpoint)
    {
        var bytes = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4().GetAddressBytes() : endpoint.Address.GetAddressBytes();
        return bytes.Length == 4 ? FromV4(bytes, (ushort)endpoint.Port) : FromV6(bytes, (ushort)endpoint.Port);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, AddressHigh);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], AddressLow);
        return IsV6 ? new IPAddress(bytes) : new IPAddress(bytes[12..]);
    }

    public void Deconstruct(out UInt128 address, out ushort port, out bool isV6)
    {
        address = Address;
        port = Port;
        isV6 = IsV6;
    }

    /// <summary>An IPv4 endpoint as <see cref="ToString"/> words it ("10.0.0.1:8080"), in ASCII; false for IPv6 (or a span too short: 21 bytes do).</summary>
    public bool TryFormatV4(Span<byte> utf8, out int written)
    {
        written = 0;
        if (IsV6 || utf8.Length < 21)
            return false;
        uint address = (uint)AddressLow;
        int n = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            System.Buffers.Text.Utf8Formatter.TryFormat((byte)(address >> shift), utf8[n..], out int digits);
            n += digits;
            utf8[n++] = shift == 0 ? (byte)':' : (byte)'.';
        }
        System.Buffers.Text.Utf8Formatter.TryFormat(Port, utf8[n..], out int portDigits);
        written = n + portDigits;
        return true;
    }

    public override string ToString() => IsV6 ? $"[{ToIPAddress()}]:{Port}" : $"{ToIPAddress()}:{Port}";
}
