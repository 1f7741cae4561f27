using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Halfway.Native;

namespace Halfway.Tests.Native;

public sealed class BtfEnumTests
{
    /// <summary>A BTF blob: an INT, a STRUCT with one member, then the enums given (name, members), in that order.</summary>
    private static byte[] Blob(params (string Name, (string Name, int Value)[] Members, bool Is64)[] enums)
    {
        var strings = new MemoryStream();
        strings.WriteByte(0);
        uint Str(string s)
        {
            uint at = (uint)strings.Length;
            strings.Write(Encoding.UTF8.GetBytes(s + "\0"));
            return at;
        }
        var types = new MemoryStream();
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); types.Write(b); }
        U32(Str("int")); U32(1u << 24); U32(4); U32(0x20);                              // INT
        U32(Str("thing")); U32((4u << 24) | 1); U32(4); U32(Str("x")); U32(1); U32(0);   // STRUCT, 1 member
        foreach (var (name, members, is64) in enums)
        {
            U32(Str(name)); U32(((is64 ? 19u : 6u) << 24) | (uint)members.Length); U32(is64 ? 8u : 4u);
            foreach (var (member, value) in members)
            {
                U32(Str(member)); U32((uint)value);
                if (is64)
                    U32(0);
            }
        }
        var blob = new MemoryStream();
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0xEB9F);
        header[2] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 24);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)strings.Length);
        blob.Write(header);
        blob.Write(types.ToArray());
        blob.Write(strings.ToArray());
        return blob.ToArray();
    }

    [Fact]
    public void Reads_the_named_enum_past_other_types_and_takes_the_prefix_off()
    {
        var blob = Blob(("other", [("SKB_DROP_REASON_X", 1)], false),
            ("skb_drop_reason", [("SKB_DROP_REASON_NOT_SPECIFIED", 2), ("SKB_DROP_REASON_TCP_LISTEN_OVERFLOW", 77)], false));
        var names = BtfEnum.Read(blob, "skb_drop_reason", "SKB_DROP_REASON_");
        Assert.NotNull(names);
        Assert.Equal("NOT_SPECIFIED", names[2]);
        Assert.Equal("TCP_LISTEN_OVERFLOW", names[77]);
        Assert.Equal(2, names.Count);
    }

    [Fact]
    public void Reads_a_64_bit_enum_and_says_null_for_a_missing_one()
    {
        var blob = Blob(("sk_rst_reason", [("SK_RST_REASON_NO_SOCKET", 3)], true));
        Assert.Equal("NO_SOCKET", BtfEnum.Read(blob, "sk_rst_reason", "SK_RST_REASON_")![3]);
        Assert.Null(BtfEnum.Read(blob, "skb_drop_reason"));
    }

    [Fact]
    public void Rejects_what_is_not_BTF_or_runs_past_its_end()
    {
        Assert.Throws<FormatException>(() => BtfEnum.Read(new byte[64], "x"));
        var blob = Blob(("e", [("A", 1)], false));
        Assert.Throws<FormatException>(() => BtfEnum.Read(blob.AsSpan(0, blob.Length - 8), "e"));
    }

    [Fact]
    public void The_event_record_matches_the_BPF_programs_layout() =>
        Assert.Equal(WitnessEventLayout.Size, Unsafe.SizeOf<WitnessEventLayout>());

    [Fact]
    public void The_running_kernel_names_the_handshake_drop_reasons_when_it_has_BTF()
    {
        if (!File.Exists(BtfEnum.KernelBtfPath))
            return;
        var names = BtfEnum.ReadKernel("skb_drop_reason", "SKB_DROP_REASON_");
        Assert.NotNull(names);
        Assert.Contains("NO_SOCKET", names.Values);
        Assert.Contains("NOT_SPECIFIED", names.Values);
    }
}
