using System.CommandLine;
using Halfway.Lab;

namespace Halfway.Cli.Commands;

/// <summary>
/// Hidden `halfway lab-hold`: builds a pair lab, changes many kernel settings in it, prints "ready"
/// and waits. Tests kill it with SIGKILL to prove that a killed run leaves the host untouched.
/// </summary>
public static class LabHoldCommand
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 30 };
        var command = new Command("lab-hold", "Build a lab, change its settings, and hold it (for tests)") { seconds };
        command.Hidden = true;
        command.SetAction(CommandRunner.Guard(async (parse, token) =>
        {
            using var lab = LabNetwork.CreatePair("hold", new LinkOptions(), configureHosts: (client, server) =>
            {
                foreach (var host in new[] { client, server })
                {
                    host.Settings.Write("net.core.somaxconn", "17");
                    host.Settings.Write("net.ipv4.tcp_synack_retries", "1");
                    host.Settings.Write("net.ipv4.tcp_syn_retries", "2");
                    host.Settings.Write("net.ipv4.tcp_abort_on_overflow", "1");
                    host.Settings.Write("net.ipv4.tcp_syncookies", "0");
                    host.Settings.Write("net.ipv4.tcp_max_syn_backlog", "64");
                    host.Settings.Write("net.ipv4.tcp_retries2", "3");
                    host.Settings.Write("net.ipv4.ip_local_port_range", "20000 20100");
                }
            });
            Console.WriteLine($"ready {lab.Client.NamespacePath} {lab.Server.NamespacePath}");
            await Task.Delay(TimeSpan.FromSeconds(parse.GetValue(seconds)), token);
            return 0;
        }));
        return command;
    }
}
