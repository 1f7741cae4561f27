using System.Buffers.Binary;
using System.Net;

namespace Halfway.Wire;

/// <summary>An IPv4 or IPv6 address and a port, as a value that allocates nothing (IPv4 is stored mapped).</summary>
public readonly record struct IpEndpoint(UInt128 Address, ushort Port, bool IsV6)
{
    public static IpEndpoint FromV4(ReadOnlySpan<byte> address, ushort port) =>
        new(((UInt128)0xffff << 32) | BinaryPrimitives.ReadUInt32BigEndian(address), port, false);

    public static IpEndpoint FromV6(ReadOnlySpan<byte> address, ushort port) =>
        new(BinaryPrimitives.ReadUInt128BigEndian(address), port, true);

    public static IpEndpoint From(IPEndPoint endpoint)
    {
        var bytes = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4().GetAddressBytes() : endpoint.Address.GetAddressBytes();
        return bytes.Length == 4 ? FromV4(bytes, (ushort)endpoint.Port) : FromV6(bytes, (ushort)endpoint.Port);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, Address);
        return IsV6 ? new IPAddress(bytes) : new IPAddress(bytes[12..]);
    }

    public override string ToString() => IsV6 ? $"[{ToIPAddress()}]:{Port}" : $"{ToIPAddress()}:{Port}";
}
