using System.Diagnostics;
using Halfway.Lab;
using Halfway.Tests.Support;

namespace Halfway.Tests.LabTests;

[Collection(LabCollection.Name)]
public sealed class HostIsolationTests
{
    [LabFact]
    public void A_lab_that_changes_many_settings_leaves_the_host_namespace_unchanged()
    {
        string before = HostSnapshot.Take();
        using (var lab = LabNetwork.CreatePair("isolation", new LinkOptions(), configureHosts: (client, server) =>
        {
            server.Settings.Write("net.core.somaxconn", "7");
            server.Settings.Write("net.ipv4.tcp_synack_retries", "1");
            server.Settings.Write("net.ipv4.tcp_abort_on_overflow", "1");
            client.Settings.Write("net.ipv4.tcp_syn_retries", "2");
            client.Settings.Write("net.ipv4.ip_local_port_range", "30000 30100");
        }))
        {
            Assert.Equal("7", lab.Server.Settings.Read("net.core.somaxconn"));
            Assert.Equal("30000 30100", lab.Client.Settings.Read("net.ipv4.ip_local_port_range"));
            Assert.Equal(before, HostSnapshot.Take());
        }
        Assert.Equal(before, HostSnapshot.Take());
    }

    [LabFact]
    public void A_lab_process_killed_with_SIGKILL_leaves_nothing_behind()
    {
        string before = HostSnapshot.Take();
        using var process = Process.Start(HalfwayProcess.StartInfo("lab-hold", "--seconds", "60"))!;
        try
        {
            var line = process.StandardOutput.ReadLineAsync();
            Assert.True(line.Wait(TimeSpan.FromSeconds(30)), "the lab did not report ready within 30 s");
            Assert.StartsWith("ready ", line.Result);
            string clientNamespace = line.Result!.Split(' ')[1];
            Assert.True(File.Exists(clientNamespace), "the lab's namespace should exist while it runs");
            Assert.Equal(before, HostSnapshot.Take());
            process.Kill(); // SIGKILL: no cleanup code runs
            Assert.True(process.WaitForExit(10_000));
            Assert.False(File.Exists(clientNamespace), "the namespace's thread is gone with the process");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
        Assert.Equal(before, HostSnapshot.Take());
    }

    [LabFact]
    public void Unknown_or_refused_settings_name_the_setting_and_the_host()
    {
        using var host = LabHost.Create("settings");
        var unknown = Assert.Throws<LabException>(() => host.Settings.Write("net.ipv4.tcp_no_such_thing", "1"));
        Assert.Contains("net.ipv4.tcp_no_such_thing", unknown.Message);
        Assert.Contains("settings", unknown.Message);
        var bad = Assert.Throws<LabException>(() => host.Settings.Write("net.ipv4.tcp_synack_retries", "many"));
        Assert.Contains("net.ipv4.tcp_synack_retries", bad.Message);
        var notNet = Assert.Throws<LabException>(() => host.Settings.Write("kernel.hostname", "x"));
        Assert.Contains("only net.*", notNet.Message);
        host.Settings.Write("net.ipv4.tcp_synack_retries", "2");
        Assert.Equal("2", host.Settings.Written["net.ipv4.tcp_synack_retries"]);
    }

    [LabFact]
    public void Without_privileges_the_lab_refuses_with_one_line_and_a_nonzero_exit()
    {
        // Skipped (outside CI) like every lab test when not root: stripping capabilities needs them first.
        Assert.True(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux, essential on Debian) is missing");
        // Run the real program as root stripped of every capability (the bounding set is emptied before exec), so it can
        // still read the build wherever the clone lives, but holds neither CAP_SYS_ADMIN nor CAP_NET_ADMIN.
        var start = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in new[] { "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "dotnet", HalfwayProcess.DllPath, "run", "seed" })
            start.ArgumentList.Add(argument);
        var (exitCode, stdout, stderr) = HalfwayProcess.Run(start, TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("CAP_SYS_ADMIN", lines[0]);
        Assert.Contains("run as root", lines[0]);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }
}
