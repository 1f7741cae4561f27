using Halfway.Capture;
using Halfway.Lab;

namespace Halfway.Runs;

/// <summary>
/// Writes the packets a run saw (on its link, or on lo for a single host) as a pcapng file Wireshark, tshark and
/// tcpdump read. Every packet the link did not deliver carries a comment saying why, so a dropped final ACK does not
/// look delivered.
/// </summary>
/// <remarks>
/// Only pcapng: classic pcap has nowhere to put the comment, and a second copy of every capture would double the run
/// folder for readers that all take pcapng anyway (<c>editcap -F pcap</c> makes one, without the comments).
/// </remarks>
internal static class RunCapture
{
    internal const string Extension = ".pcapng";
    internal const string InFlightComment = "in flight when the lab stopped (never delivered)";

    /// <summary>Writes <c>FOLDER/SCENARIO.pcapng</c> and returns the file's name.</summary>
    public static string Write(ScenarioRun run, string folder)
    {
        string file = run.Scenario.Name + Extension;
        using var stream = File.Create(Path.Combine(folder, file));
        var (name, description) = run.Scenario.Topology == Topology.Pair
            ? (TunLink.InterfaceName, "the lab's link between the client and server hosts, seen from the client: outbound = client to server")
            : ("lo", "the single host's loopback, to and from the server's port: outbound = client to server");
        using var writer = new PcapngWriter(stream, name, description, run.Scenario.Link.SnapLength);
        long start = run.StartedAt.ToUnixTimeMilliseconds() * 1000;
        foreach (var packet in run.Packets)
        {
            var direction = packet.Direction == LinkDirection.ClientToServer ? PcapngPacketFlags.Outbound : PcapngPacketFlags.Inbound;
            writer.Write(start + packet.SeenAtMicroseconds, packet.Bytes, packet.Length, Comment(packet), direction);
        }
        return file;
    }

    /// <summary>What the capture says about a packet the link did not deliver; null for a delivered one.</summary>
    internal static string? Comment(LinkPacket packet) => packet.Action switch
    {
        LinkAction.Dropped => $"dropped by the link: {packet.DropReason ?? "no reason given"}",
        LinkAction.InFlight => InFlightComment,
        _ => null,
    };
}
