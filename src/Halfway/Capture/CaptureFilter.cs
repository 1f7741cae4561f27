using System.Net;
using Halfway.Wire;

namespace Halfway.Capture;

/// <summary>Keeps the packets whose source or destination matches a port ("8080"), a host ("10.0.0.1", "::1") or both ("10.0.0.1:8080", "[::1]:8080").</summary>
internal sealed class CaptureFilter
{
    private readonly IpEndpoint? _address; // only its address counts
    private readonly int? _port;

    private CaptureFilter(IpEndpoint? address, int? port)
    {
        _address = address;
        _port = port;
    }

    public static CaptureFilter Parse(string text)
    {
        text = text.Trim();
        if (ushort.TryParse(text, out var port))
            return new CaptureFilter(null, port);
        if (IPEndPoint.TryParse(text, out var endpoint) && (text.Contains(']') || (text.Count(c => c == ':') == 1)))
            return new CaptureFilter(IpEndpoint.From(endpoint), endpoint.Port);
        if (IPAddress.TryParse(text, out var address))
            return new CaptureFilter(IpEndpoint.From(new IPEndPoint(address, 0)), null);
        throw new HalfwayException($"--filter {text}: expected a port (8080), a host (10.0.0.1, ::1) or both (10.0.0.1:8080, [::1]:8080)");
    }

    public bool Matches(in TcpSegment segment) => Matches(segment.Source) || Matches(segment.Destination);

    private bool Matches(IpEndpoint endpoint) =>
        (_address is not { } address || address.SameAddress(endpoint)) && (_port is null || _port.Value == endpoint.Port);
}
