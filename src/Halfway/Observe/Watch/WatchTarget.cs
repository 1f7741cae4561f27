using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Halfway.Wire;

namespace Halfway.Observe.Watch;

/// <summary>A listener to watch, as the user named it: a port, optionally with the address it is bound to.</summary>
internal readonly record struct WatchTarget(IPAddress? Address, ushort Port)
{
    /// <summary>Parses "PORT", "ADDR:PORT" or "[IPv6]:PORT"; a user error says what is wrong and how to write it.</summary>
    public static WatchTarget Parse(string text)
    {
        var (address, port) = ParseAddressAndPort(text, "listener");
        return new WatchTarget(address, port);
    }

    /// <summary>
    /// Whether a listener bound to <paramref name="local"/> could be this target: a port-only target
    /// matches every listener on the port; ADDR:PORT matches a listener on that address or the wildcard
    /// that would take its connections (0.0.0.0 or [::] for IPv4, [::] for IPv6).
    /// </summary>
    public bool Matches(IpEndpoint local)
    {
        if (local.Port != Port)
            return false;
        if (Address is null)
            return true;
        var exact = Exact;
        return local == exact || local == Wildcard(IPAddress.IPv6Any) || (!exact.IsV6 && local == Wildcard(IPAddress.Any));
    }

    /// <summary>
    /// The listener the kernel delivers this target's connections to, among <paramref name="listening"/>:
    /// the one bound to the address, else the family's wildcard, else (IPv4) a dual-stack [::] listener.
    /// Null when none would take them. Port-only targets have no single listener.
    /// </summary>
    public IpEndpoint? RoutesTo(IReadOnlySet<IpEndpoint> listening)
    {
        if (Address is null)
            return null;
        var exact = Exact;
        if (listening.Contains(exact))
            return exact;
        var wildcard = Wildcard(exact.IsV6 ? IPAddress.IPv6Any : IPAddress.Any);
        if (listening.Contains(wildcard))
            return wildcard;
        var dualStack = Wildcard(IPAddress.IPv6Any);
        return !exact.IsV6 && listening.Contains(dualStack) ? dualStack : null;
    }

    private IpEndpoint Wildcard(IPAddress any) => IpEndpoint.From(new IPEndPoint(any, Port));

    private IpEndpoint Exact => IpEndpoint.From(new IPEndPoint(Address!, Port));

    public override string ToString() => Address is null ? Port.ToString(CultureInfo.InvariantCulture)
        : Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";

    /// <summary>Splits "[ADDR:]PORT" (IPv6 in brackets). The address is null when only a port is given.</summary>
    public static (IPAddress? Address, ushort Port) ParseAddressAndPort(string text, string what)
    {
        text = text.Trim();
        if (text.Length == 0)
            throw new HalfwayException($"empty {what}: give PORT or ADDR:PORT, e.g. 8080 or 127.0.0.1:8080");
        string portText = text;
        IPAddress? address = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
                throw new HalfwayException($"bad {what} '{text}': write an IPv6 address as [ADDR]:PORT, e.g. [::1]:8080");
            address = ParseAddress(text[1..close], text, what);
            portText = text[(close + 2)..];
        }
        else if (text.Count(c => c == ':') > 1)
        {
            throw new HalfwayException($"bad {what} '{text}': write an IPv6 address in brackets, e.g. [::1]:8080");
        }
        else if (text.IndexOf(':') is var colon and >= 0)
        {
            if (colon > 0)
                address = ParseAddress(text[..colon], text, what);
            portText = text[(colon + 1)..];
        }
        if (!ushort.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out ushort port) || port == 0)
            throw new HalfwayException($"bad port '{portText}' in {what} '{text}': give a number from 1 to 65535");
        return (address, port);
    }

    private static IPAddress ParseAddress(string addressText, string text, string what)
    {
        // IPAddress.TryParse takes "1.2.3" as 1.2.0.3: require the four parts of a dotted quad.
        bool dottedQuad = !addressText.Contains(':') && addressText.Count(c => c == '.') == 3;
        if (!IPAddress.TryParse(addressText, out var address) || !(dottedQuad || addressText.Contains(':'))
            || addressText.Any(c => !(char.IsAsciiHexDigit(c) || c is '.' or ':')))
            throw new HalfwayException($"bad address '{addressText}' in {what} '{text}': give a numeric IPv4 or IPv6 address (no host names)");
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
