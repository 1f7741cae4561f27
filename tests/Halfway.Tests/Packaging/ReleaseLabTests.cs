using System.Net;
using System.Net.Sockets;
using Halfway.Lab;

namespace Halfway.Tests.Packaging;

/// <summary>
/// packaging/release.sh builds the native binary and the .deb; the .deb installs into a fresh root with
/// dpkg --root, and the installed binary runs with the .NET install hidden by a bind mount in a private
/// mount namespace (unshare -m): --version, explain on the example capture, watch --once on a lab listener.
/// Root: dpkg --root, mounts. The native build takes ~35 s on the test machine.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ReleaseLabTests
{
    [LabFact]
    public void The_deb_installs_into_a_fresh_root_and_its_binary_runs_without_dotnet()
    {
        string work = Directory.CreateTempSubdirectory("halfway-release-").FullName;
        try
        {
            string repository = Tool.RepositoryRoot();
            var release = Tool.Run(Path.Combine(repository, "packaging", "release.sh"), ["9.8.7", Path.Combine(work, "out")], TimeSpan.FromMinutes(10));
            Assert.True(release.ExitCode == 0, $"release.sh failed ({release.ExitCode}): {release.Output}");
            string deb = Path.Combine(work, "out", "halfway_9.8.7_amd64.deb");
            Assert.True(File.Exists(deb), release.Output);
            Assert.True(File.Exists(Path.Combine(work, "out", "halfway-9.8.7-linux-x64.tar.gz")), release.Output);

            string root = Path.Combine(work, "root");
            Directory.CreateDirectory(Path.Combine(root, "var", "lib", "dpkg", "info"));
            Directory.CreateDirectory(Path.Combine(root, "var", "lib", "dpkg", "updates"));
            File.WriteAllText(Path.Combine(root, "var", "lib", "dpkg", "status"), "");
            // The fresh root has no libc6 package recorded: only that dependency is forced.
            var install = Tool.Run("dpkg", [$"--root={root}", "--force-depends", "-i", deb], TimeSpan.FromMinutes(2));
            Assert.True(install.ExitCode == 0, $"dpkg -i failed ({install.ExitCode}): {install.Output}");
            string binary = Path.Combine(root, "usr", "bin", "halfway");
            foreach (var file in new[] { "halfway-rules.yml", "halfway-dashboard.json", "halfway-watch.service" })
                Assert.True(File.Exists(Path.Combine(root, "usr", "share", "halfway", file)), file);
            Assert.True(File.Exists(Path.Combine(root, "lib", "systemd", "system", "halfway-watch.service")));

            string empty = Directory.CreateDirectory(Path.Combine(work, "empty")).FullName;
            var version = WithoutDotnet(empty, binary, ["--version"]);
            Assert.True(version.ExitCode == 0, version.Output);
            string commit = Tool.Run("git", ["-C", repository, "rev-parse", "--short=12", "HEAD"], TimeSpan.FromSeconds(20)).Output.Trim();
            Assert.StartsWith($"9.8.7+{commit}", version.Output.Trim());

            string example = Path.Combine(repository, "docs", "examples", "explain-example.pcap");
            var explain = WithoutDotnet(empty, binary, ["explain", example]);
            Assert.True(explain.ExitCode == 0, explain.Output);
            Assert.Contains("half-established", explain.Output);

            using var host = LabHost.Create("release-watch");
            using var listener = host.Run(() =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Any, 8080));
                socket.Listen(4);
                return socket;
            });
            var watch = WithoutDotnet(empty, binary, ["watch", "--once", "--interval", "0.2", "127.0.0.1:8080"], host);
            Assert.True(watch.ExitCode == 0, watch.Output);
            Assert.Contains(" listener 0.0.0.0:8080 accept_queue=0/4 ", watch.Output);
        }
        finally
        {
            Directory.Delete(Path.Combine(work), recursive: true);
        }
    }

    /// <summary>
    /// Runs the binary in a private mount namespace where the .NET install (the directory this test's
    /// runtime comes from) is an empty directory, and first proves that dotnet cannot start there.
    /// </summary>
    private static (int ExitCode, string Output) WithoutDotnet(string empty, string binary, string[] arguments, LabHost? host = null)
    {
        // .../dotnet/shared/Microsoft.NETCore.App/VERSION/System.Private.CoreLib.dll → .../dotnet
        string dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        string script = "mount --bind \"$0\" \"$1\" || exit 97; shift; " +
            "if env -u DOTNET_ROOT dotnet --info >/dev/null 2>&1 || [ -e \"$DOTNET_ROOT_PROBE\" ]; then echo 'dotnet still runs' >&2; exit 98; fi; " +
            "exec env -u DOTNET_ROOT \"$@\"";
        string[] command = ["-m", "--", "sh", "-c", script, empty, dotnetRoot, binary, .. arguments];
        if (host is null)
            return WithProbe(dotnetRoot, () => Tool.Run("unshare", command, TimeSpan.FromMinutes(1)));
        return WithProbe(dotnetRoot, () => host.Run(() => Tool.Run("unshare", command, TimeSpan.FromMinutes(1))));
    }

    private static (int ExitCode, string Output) WithProbe(string dotnetRoot, Func<(int, string)> run)
    {
        Environment.SetEnvironmentVariable("DOTNET_ROOT_PROBE", Path.Combine(dotnetRoot, "shared"));
        try
        {
            return run();
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOTNET_ROOT_PROBE", null);
        }
    }
}
