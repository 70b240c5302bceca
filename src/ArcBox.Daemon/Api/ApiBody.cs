using System.Text.Json;
using ArcBox.Daemon.Sandboxes;
using Microsoft.AspNetCore.Http;

namespace ArcBox.Daemon.Api;

/// <summary>Request bodies: JSON objects of at most <see cref="MaxBytes"/>, malformed ones refused with where.</summary>
public static class ApiBody
{
    public const int MaxBytes = 2 << 20;

    public static async Task<T> Read<T>(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes)
        {
            throw new RequestException(ErrorCode.Invalid, $"request body over {MaxBytes} bytes");
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, ApiJson.Options, ct)
                ?? throw new RequestException(ErrorCode.Invalid, "empty request body; expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new RequestException(ErrorCode.Invalid, $"malformed JSON{(ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "")}: {ex.Message.Split(". Path:")[0]}", inner: ex);
        }
        catch (IOException ex) when (!ct.IsCancellationRequested)
        {
            // Kestrel could not read the body as HTTP frames it (a chunk size that overflows, a body cut short).
            throw new RequestException(ErrorCode.Invalid, $"unreadable request body: {ex.Message}", inner: ex);
        }
    }
}
