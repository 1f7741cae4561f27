using System.Globalization;

namespace Halfway.Tests.Support;

/// <summary>An independent reading of a capture: tshark's per-client-port counts of SYNs, SYN-ACKs, their retransmissions and RSTs.</summary>
public sealed class TsharkView
{
    public sealed class Flow
    {
        public int Syns { get; set; }
        public int SynAcks { get; set; }
        public int SynAckRetransmissions { get; set; }
        public int RstsFromServer { get; set; }
    }

    public long Packets { get; private set; }

    /// <summary>By the client's port (the server listens on a well-known port below 10000).</summary>
    public Dictionary<int, Flow> Flows { get; } = new();

    public static TsharkView Read(string capture)
    {
        var output = HostSnapshot.Run(["tshark", "-n", "-r", capture, "-T", "fields", "-E", "separator=,",
            "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.flags.reset", "-e", "tcp.analysis.retransmission"]);
        var view = new TsharkView();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            view.Packets++;
            var f = line.Split(',');
            if (f.Length < 5 || f[0].Length == 0)
                continue;
            int source = int.Parse(f[0], CultureInfo.InvariantCulture), destination = int.Parse(f[1], CultureInfo.InvariantCulture);
            bool fromServer = source < 10000;
            int clientPort = fromServer ? destination : source;
            var flow = view.Flows.TryGetValue(clientPort, out var existing) ? existing : view.Flows[clientPort] = new Flow();
            bool syn = f[2] is "1" or "True", ack = f[3] is "1" or "True", rst = f[4] is "1" or "True";
            bool retransmission = f.Length > 5 && f[5].Length > 0;
            if (syn && !ack && !fromServer) flow.Syns++;
            if (syn && ack && fromServer)
            {
                flow.SynAcks++;
                if (retransmission) flow.SynAckRetransmissions++;
            }
            if (rst && fromServer) flow.RstsFromServer++;
        }
        return view;
    }
}
