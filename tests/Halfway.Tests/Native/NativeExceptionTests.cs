using Halfway.Native;

namespace Halfway.Tests.Native;

public sealed class NativeExceptionTests
{
    [Fact]
    public void A_failed_system_call_names_its_operation_and_errno_and_is_an_IO_failure()
    {
        var e = new NativeException("opening /dev/net/tun", 2);
        Assert.IsAssignableFrom<IOException>(e);
        Assert.Equal("opening /dev/net/tun", e.Operation);
        Assert.Equal(2, e.Errno);
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.StartsWith("opening /dev/net/tun failed: ENOENT", e.Message);
    }

    [Fact]
    public void A_real_failure_is_typed()
    {
        // An interface that does not exist, asked of the kernel for real.
        var e = Assert.Throws<NativeException>(() => RtNetlink.SetLinkUp("hw-missing-0"));
        Assert.Equal("ENODEV", e.ErrnoName);
    }
}
