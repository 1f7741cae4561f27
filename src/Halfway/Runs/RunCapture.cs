using Halfway.Capture;

namespace Halfway.Runs;

/// <summary>Writes the packets a run saw (on its link, or on lo for a single host) as a pcap file Wireshark and tshark read.</summary>
public static class RunCapture
{
    /// <summary>Writes <c>FOLDER/SCENARIO.pcap</c> and returns the file's name.</summary>
    public static string Write(ScenarioRun run, string folder)
    {
        string file = $"{run.Scenario.Name}.pcap";
        using var stream = File.Create(Path.Combine(folder, file));
        using var writer = new PcapWriter(stream);
        long start = run.StartedAt.ToUnixTimeMilliseconds() * 1000;
        foreach (var packet in run.Packets)
            writer.Write(start + packet.SeenAtMicroseconds, packet.Bytes, packet.Length);
        return file;
    }
}
