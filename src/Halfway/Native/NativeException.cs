namespace Halfway.Native;

/// <summary>
/// A system call failed: which operation, and the kernel's errno. It is an <see cref="IOException"/>, so the command
/// line's boundary turns it into one line for the user (what failed and why) like any other I/O failure.
/// </summary>
internal sealed class NativeException(string operation, int errno)
    : IOException($"{operation} failed: {Libc.Describe(errno)}")
{
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;
    /// <summary>The errno's symbolic name (ENOENT, EPERM, ...).</summary>
    public string ErrnoName => Halfway.Native.Errno.Name(Errno);
}
