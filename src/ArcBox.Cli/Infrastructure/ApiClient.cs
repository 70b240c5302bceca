using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ArcBox.Daemon.Api;

namespace ArcBox.Cli.Infrastructure;

/// <summary>HTTP/JSON over the daemon's Unix socket. API errors become <see cref="CliException"/>s with their exit codes.</summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient http;
    private readonly string socketPath;

    public ApiClient(string socketPath)
    {
        this.socketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        http = new HttpClient(handler) { BaseAddress = new Uri("http://arcbox/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body = null, CancellationToken ct = default)
    {
        using var response = await Send(method, path, body, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone();
    }

    public async Task<string> GetTextAsync(string path, CancellationToken ct = default)
    {
        using var response = await Send(HttpMethod.Get, path, null, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>A GET whose 404 means "there is none": null then.</summary>
    public async Task<JsonElement?> GetOrNullAsync(string path, CancellationToken ct = default)
    {
        using var response = await Send(HttpMethod.Get, path, null, notFoundIsNull: true, ct);
        if (response is null)
        {
            return null;
        }

        var text = await response.Content.ReadAsStringAsync(ct);
        return JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone();
    }

    /// <summary>A GET of raw bytes, with the response headers.</summary>
    public async Task<(byte[] Body, System.Net.Http.Headers.HttpResponseHeaders Headers)> GetBytesAsync(string path, CancellationToken ct = default)
    {
        using var response = await Send(HttpMethod.Get, path, null, ct);
        return (await response.Content.ReadAsByteArrayAsync(ct), response.Headers);
    }

    public void Dispose() => http.Dispose();

    private async Task<HttpResponseMessage> Transport(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Failure, $"cannot reach the arcbox daemon at {socketPath}: {ex.InnerException?.Message ?? ex.Message} (is `arcbox daemon` running? --socket or ARCBOX_SOCKET choose another)", inner: ex);
        }
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body, CancellationToken ct) =>
        (await Send(method, path, body, notFoundIsNull: false, ct))!;

    private async Task<HttpResponseMessage?> Send(HttpMethod method, string path, object? body, bool notFoundIsNull, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: ApiJson.Options);
        }

        var response = await Transport(request, ct);

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        if (notFoundIsNull && response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            try
            {
                var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
                var code = error.GetProperty("code").GetString();
                var details = error.TryGetProperty("details", out var d) && d.ValueKind != JsonValueKind.Null ? d.Clone() : (object?)null;
                throw new CliException(code == "failure" ? ExitCodes.Failure : ExitCodes.Invalid, error.GetProperty("message").GetString() ?? text, details);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new CliException(response.StatusCode >= HttpStatusCode.InternalServerError ? ExitCodes.Failure : ExitCodes.Invalid, $"daemon answered {(int)response.StatusCode}: {text}", inner: ex);
            }
        }
    }
}
