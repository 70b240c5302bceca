using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Requests that read a sandbox while another request creates or removes it.</summary>
public class ConcurrencyTests
{
    private const int Rounds = 150;

    /// <summary>
    /// Explain, policy show, inspect and stats of a sandbox that is being created and removed over and over: each
    /// answers for the whole sandbox (200) or for none (404 with the error body), never a 500. Before the sandbox
    /// table, a create stored the record and the policy in two steps, so an explain between them threw
    /// KeyNotFoundException, which left the API as a bare 500.
    /// </summary>
    [Fact]
    public async Task Reads_racing_creates_and_removes_see_each_sandbox_whole_or_not_at_all()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        var ct = TestContext.Current.CancellationToken;
        using var net = new TestNetwork("race");
        net.Create("other", builtin: "default");
        using var http = UnixHttp(net.Socket);
        var wrong = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<int, int>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var explain = """{"direction": "outbound", "protocol": "tcp", "peer": "203.0.113.10", "port": 80}""";
        (HttpMethod Method, string Path, string? Body)[] reads =
        [
            (HttpMethod.Post, "v1/sandboxes/racer/explain", explain),
            (HttpMethod.Get, "v1/sandboxes/racer/policy?format=nft", null),
            (HttpMethod.Get, "v1/sandboxes/racer", null),
            (HttpMethod.Get, "v1/sandboxes/racer/stats", null),
            (HttpMethod.Post, "v1/sandboxes/other/explain", explain.Replace("203.0.113.10", "10.0.0.3", StringComparison.Ordinal)),
        ];

        async Task Read(int offset)
        {
            for (var i = offset; !stop.IsCancellationRequested; i++)
            {
                var (method, path, body) = reads[i % reads.Length];
                using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
                using var response = await http.SendAsync(request, CancellationToken.None);
                var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                var status = (int)response.StatusCode;
                seen.AddOrUpdate(status, 1, (_, n) => n + 1);
                var fine = status == 200 || (status == 404 && ErrorCode(text) == "not_found");
                if (!fine)
                {
                    wrong.Enqueue($"{method} {path}: {status} '{text}'");
                }
            }
        }

        var readers = new[] { Task.Run(() => Read(0), ct), Task.Run(() => Read(2), ct) };
        for (var round = 0; round < Rounds && wrong.IsEmpty; round++)
        {
            net.Create("racer", attach: "tap", builtin: "default");
            net.Remove("racer");
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(wrong.IsEmpty, string.Join("\n", wrong.Take(5)));

        // The readers ran all along and saw the sandbox both there and gone.
        Assert.True(seen.GetValueOrDefault(200) > Rounds && seen.GetValueOrDefault(404) > Rounds, string.Join(", ", seen.Select(kv => $"{kv.Key}: {kv.Value}")));
    }

    private static string? ErrorCode(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static HttpClient UnixHttp(string socketPath) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://arcbox/") };
}
