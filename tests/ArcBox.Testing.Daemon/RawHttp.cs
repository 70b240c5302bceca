using System.Net.Sockets;
using System.Text;

namespace ArcBox.Testing.Daemon;

/// <summary>HTTP/1.1 to the daemon's Unix socket written by hand, for requests no well-behaved client would send.</summary>
public static class RawHttp
{
    /// <summary>One request on its own connection, sent as given: the status (0 when the answer is not HTTP) and the
    /// body, unchunked.</summary>
    public static async Task<(int Status, string Body)> SendAsync(string socketPath, string method, string path, string? body, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
        var bytes = Encoding.UTF8.GetBytes(body ?? "");

        var head = $"{method} {path} HTTP/1.1\r\nHost: arcbox\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        await socket.SendAsync(Encoding.UTF8.GetBytes(head).Concat(bytes).ToArray(), SocketFlags.None, ct);
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync(ct);
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0 || response.Split(' ') is not [_, var code, ..] || !int.TryParse(code, System.Globalization.CultureInfo.InvariantCulture, out var status))
        {
            return (0, response);
        }

        var payload = response[(split + 4)..];
        if (response[..split].Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            payload = Unchunk(payload);
        }

        return (status, payload);
    }

    private static string Unchunk(string payload)
    {
        var result = new StringBuilder();
        var at = 0;
        while (true)
        {
            var end = payload.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (end < 0 || !int.TryParse(payload.AsSpan(at, end - at), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var size) || size == 0)
            {
                return result.ToString();
            }

            result.Append(payload, end + 2, Math.Min(size, payload.Length - end - 2));
            at = end + 2 + size + 2;
        }
    }
}
