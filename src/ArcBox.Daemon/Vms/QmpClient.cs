using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArcBox.Daemon.Vms;

/// <summary>
/// QEMU's control protocol (docs/interop/qmp-spec): JSON lines over a Unix socket. The server greets, the client
/// sends qmp_capabilities, then commands; each gets {"return": ...} or {"error": ...}, with events in between.
/// </summary>
public sealed class QmpClient : IDisposable
{
    private readonly Socket socket;
    private readonly StreamReader reader;
    private readonly NetworkStream stream;

    private QmpClient(Socket socket)
    {
        this.socket = socket;
        stream = new NetworkStream(socket, ownsSocket: false);
        reader = new StreamReader(stream, Encoding.UTF8);
    }

    public static async Task<QmpClient> ConnectAsync(string path, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
            var client = new QmpClient(socket);
            await client.ReadAsync(ct); // the greeting
            await client.ExecuteAsync("qmp_capabilities", ct);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs a command and returns its "return" value; a QMP error becomes an IOException naming it.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, CancellationToken ct)
    {
        var line = Encoding.UTF8.GetBytes(new JsonObject { ["execute"] = command }.ToJsonString() + "\n");
        await stream.WriteAsync(line, ct);
        while (true)
        {
            var message = await ReadAsync(ct);
            if (message["return"] is { } result)
            {
                return result;
            }

            if (message["error"] is { } error)
            {
                throw new IOException($"QMP {command}: {error["desc"]}");
            }

            // An asynchronous event ({"event": ...}): not the answer.
        }
    }

    public void Dispose()
    {
        reader.Dispose();
        stream.Dispose();
        socket.Dispose();
    }

    private async Task<JsonObject> ReadAsync(CancellationToken ct)
    {
        var line = await reader.ReadLineAsync(ct) ?? throw new IOException("QMP: QEMU closed the connection");
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new IOException($"QMP: not a JSON object: {line}");
        }
        catch (JsonException ex)
        {
            throw new IOException($"QMP: malformed reply: {ex.Message}", ex);
        }
    }
}
