using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Halfway.Observe.Watch;

/// <summary>
/// A minimal HTTP/1.x responder for GET /metrics: it serves the latest sample's exposition and
/// closes each connection. Its socket is made in the network namespace of the thread that starts it,
/// which must not be the watched one: watch adds nothing to the namespace it watches.
/// </summary>
internal sealed class PrometheusEndpoint : IDisposable
{
    private const int MaxRequestBytes = 8192;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener;
    private volatile string? _exposition;

    private PrometheusEndpoint(TcpListener listener) => _listener = listener;

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>[ADDR:]PORT for the metrics endpoint; without an address it binds to loopback only.</summary>
    public static IPEndPoint ParseAddress(string text)
    {
        var (address, port) = WatchTarget.ParseAddressAndPort(text, "--prometheus address");
        return new IPEndPoint(address ?? IPAddress.Loopback, port);
    }

    public static PrometheusEndpoint Start(IPEndPoint endpoint)
    {
        var listener = new TcpListener(endpoint);
        try
        {
            listener.Start(16);
        }
        catch (SocketException e)
        {
            throw new HalfwayException($"cannot serve Prometheus metrics on {endpoint}: {e.Message}; choose another ADDR:PORT");
        }
        return new PrometheusEndpoint(listener);
    }

    /// <summary>Publishes the exposition that the next scrapes receive.</summary>
    public void Publish(string exposition) => _exposition = exposition;

    public async Task ServeAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => RespondAsync(client, token), CancellationToken.None);
        }
    }

    private async Task RespondAsync(Socket client, CancellationToken token)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            string? requestLine = await ReadRequestLineAsync(client, timeout.Token);
            var (status, contentType, body) = Answer(requestLine, _exposition);
            var bodyBytes = Encoding.UTF8.GetBytes(body);
            var head = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {bodyBytes.Length}\r\nConnection: close\r\n\r\n");
            await client.SendAsync(head, SocketFlags.None, timeout.Token);
            bool isHead = requestLine?.StartsWith("HEAD ", StringComparison.Ordinal) == true;
            if (!isHead)
                await client.SendAsync(bodyBytes, SocketFlags.None, timeout.Token);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            // A scraper that hangs up or stalls only loses its own answer.
        }
    }

    /// <summary>Reads up to the end of the request headers and returns the first line, or null when it never came.</summary>
    private static async Task<string?> ReadRequestLineAsync(Socket client, CancellationToken token)
    {
        var buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int received = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, token);
            if (received == 0)
                break;
            length += received;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0 || buffer.AsSpan(0, length).IndexOf("\n\n"u8) >= 0)
                break;
        }
        var text = Encoding.ASCII.GetString(buffer, 0, length);
        int end = text.IndexOf('\n');
        return end < 0 ? null : text[..end].TrimEnd('\r');
    }

    /// <summary>What to answer to a request line: 200 with the metrics for GET /metrics, else an error status.</summary>
    internal static (string Status, string ContentType, string Body) Answer(string? requestLine, string? exposition)
    {
        const string plain = "text/plain; charset=utf-8";
        var parts = requestLine?.Split(' ') ?? [];
        if (parts.Length < 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return ("400 Bad Request", plain, "bad request\n");
        if (parts[0] is not ("GET" or "HEAD"))
            return ("405 Method Not Allowed", plain, "only GET /metrics\n");
        string path = parts[1].Split('?')[0];
        if (path == "/")
            return ("200 OK", plain, "halfway watch: metrics at /metrics\n");
        if (path != "/metrics")
            return ("404 Not Found", plain, "not found: metrics are at /metrics\n");
        if (exposition is null)
            return ("503 Service Unavailable", plain, "no sample yet: the first one comes after one interval\n");
        return ("200 OK", PrometheusExposition.ContentType, exposition);
    }

    public void Dispose() => _listener.Stop();
}
