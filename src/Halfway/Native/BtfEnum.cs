using System.Buffers.Binary;
using System.Text;

namespace Halfway.Native;

/// <summary>
/// Reads one enum's members from a BTF blob (the running kernel's is /sys/kernel/btf/vmlinux). The kernel renumbers
/// enums such as <c>skb_drop_reason</c> between versions, so names are read from the kernel itself, never from a table.
/// </summary>
internal static class BtfEnum
{
    public const string KernelBtfPath = "/sys/kernel/btf/vmlinux";

    private const ushort Magic = 0xEB9F;
    private const int KindEnum = 6, KindEnum64 = 19;

    /// <summary>The members of the first enum named <paramref name="enumName"/>, value → name with <paramref name="prefix"/>
    /// taken off; null when the blob has no such enum. Throws <see cref="FormatException"/> on a blob that is not BTF.</summary>
    public static Dictionary<long, string>? Read(ReadOnlySpan<byte> btf, string enumName, string prefix = "")
    {
        if (btf.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(btf) != Magic)
            throw new FormatException("not little-endian BTF (bad magic)");
        uint headerLength = U32(btf, 4);
        uint typeOffset = U32(btf, 8), typeLength = U32(btf, 12), stringOffset = U32(btf, 16), stringLength = U32(btf, 20);
        if ((ulong)headerLength + typeOffset + typeLength > (ulong)btf.Length || (ulong)headerLength + stringOffset + stringLength > (ulong)btf.Length)
            throw new FormatException("BTF sections run past the end of the data");
        var types = btf.Slice((int)(headerLength + typeOffset), (int)typeLength);
        var strings = btf.Slice((int)(headerLength + stringOffset), (int)stringLength);
        byte[] wanted = Encoding.UTF8.GetBytes(enumName);
        int at = 0;
        while (at + 12 <= types.Length)
        {
            uint nameOffset = U32(types, at);
            uint info = U32(types, at + 4);
            int vlen = (int)(info & 0xffff);
            int kind = (int)((info >> 24) & 0x1f);
            int members = at + 12;
            int next = members + kind switch
            {
                1 or 14 or 17 => 4,                  // INT, VAR, DECL_TAG
                3 => 12,                             // ARRAY
                4 or 5 or 15 or 19 => 12 * vlen,     // STRUCT, UNION, DATASEC, ENUM64
                6 or 13 => 8 * vlen,                 // ENUM, FUNC_PROTO
                2 or 7 or 8 or 9 or 10 or 11 or 12 or 16 or 18 => 0,
                _ => throw new FormatException($"unknown BTF kind {kind} at type offset {at}"),
            };
            if (next > types.Length)
                throw new FormatException("a BTF type runs past the end of the type section");
            if ((kind == KindEnum || kind == KindEnum64) && Name(strings, nameOffset).SequenceEqual(wanted))
            {
                bool signed = (info >> 31) != 0;
                var result = new Dictionary<long, string>(vlen);
                for (int i = 0; i < vlen; i++)
                {
                    long value;
                    uint memberName;
                    if (kind == KindEnum)
                    {
                        memberName = U32(types, members + 8 * i);
                        uint raw = U32(types, members + 8 * i + 4);
                        value = signed ? (int)raw : raw;
                    }
                    else
                    {
                        memberName = U32(types, members + 12 * i);
                        value = (long)(U32(types, members + 12 * i + 4) | ((ulong)U32(types, members + 12 * i + 8) << 32));
                    }
                    string name = Encoding.UTF8.GetString(Name(strings, memberName));
                    result.TryAdd(value, name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name);
                }
                return result;
            }
            at = next;
        }
        return null;
    }

    /// <summary>The running kernel's enum, or null when the kernel exposes no BTF or lacks the enum.</summary>
    public static Dictionary<long, string>? ReadKernel(string enumName, string prefix)
    {
        byte[] btf;
        try
        {
            btf = File.ReadAllBytes(KernelBtfPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return Read(btf, enumName, prefix);
    }

    private static uint U32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);

    private static ReadOnlySpan<byte> Name(ReadOnlySpan<byte> strings, uint offset)
    {
        if (offset >= strings.Length)
            return [];
        var rest = strings[(int)offset..];
        int end = rest.IndexOf((byte)0);
        return end < 0 ? rest : rest[..end];
    }
}
