namespace Halfway.Capture;

/// <summary>Damage found in a capture file: where (byte offset in the file, or in the decompressed data for gzip input) and what.</summary>
internal sealed record CaptureWarning(string File, long ByteOffset, string Message)
{
    public override string ToString() => $"{File}: byte {ByteOffset}: {Message}";
}
