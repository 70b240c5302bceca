using System.Text;
using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>
/// Random and mutated API requests: every answer that refuses carries the {"error"} body, the daemon never dies, and
/// a stretch of requests none of which succeeded in changing something leaves the state and the kernel as they were.
/// </summary>
public class ApiFuzzTests
{
    private const int Requests = 10_000;
    private const int Window = 500;
    private const string Noise = "{}[]\":,0-e\\\u0000\u00ff9";

    private static readonly string[] Names = ["web", "nobody", "", "..", "../../etc/passwd", "%2e%2e", "a%00b", "Ünïcødé", "x".PadRight(300, 'x'), "web/policy", "-", "web%20x", "日本"];
    private static readonly string[] Values = ["0", "-1", "1", "65535", "65536", "99999999999999999999", "NaN", "Infinity", "-0", "1e309", "", "true", "null", "%ff", "1:2", "x:y", "::", "[", "\u00e9"];

    private static readonly string[] Bodies =
    [
        """{"name": "fz", "attach": "tap", "policy": {"name": "offline"}}""",
        """{"name": "web", "policy": {"yaml": "network:\n  outbound:\n    - ports: [80]\n", "file": "p.yaml"}}""",
        """{"yaml": "network:\n  outbound:\n    - to: [internet]\n      ports: [443]\n"}""",
        """{"direction": "outbound", "protocol": "tcp", "peer": "203.0.113.10", "port": 80}""",
        """{"host": "127.0.0.1", "hostPort": 8080, "sandbox": "web", "sandboxPort": 80}""",
        """{"sandbox": "web", "name": "example.com", "type": "A"}""",
        """{"kernel": "/nonexistent", "memoryMb": 64}""",
    ];

    [Fact]
    public async Task Ten_thousand_random_requests_get_answers_with_the_error_body_and_change_nothing_they_refuse()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        var ct = TestContext.Current.CancellationToken;
        using var net = new TestNetwork("fuzz");
        net.Create("web", builtin: "default");
        var random = new Random(20261203);
        var bad = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var before = State(net);
        var changedInWindow = false;
        for (var i = 0; i < Requests && bad.Count < 5; i++)
        {
            var (method, path, body) = Generate(random);
            // The request line itself must be HTTP: raw non-ASCII in it is refused by Kestrel before any of our code
            // runs, with a bare 400 (as any HTTP server would). Clients percent-encode it; so does this one.
            path = string.Concat(path.Select(c => c is > ' ' and < (char)127 ? c.ToString() : Uri.EscapeDataString(c.ToString())));
            var (status, text) = await RawHttp.SendAsync(net.Socket, method, path, body, ct);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status is < 100 or > 599)
            {
                bad.Add($"{method} {path}: no answer ('{text}')");
            }
            else if (path.Contains("%00", StringComparison.Ordinal))
            {
                // A NUL in the request target: Kestrel refuses the request line itself, before any of our code.
                if (status != 400)
                {
                    bad.Add($"{method} {path}: {status}, not Kestrel's 400 for a NUL in the path");
                }
            }
            else if (status >= 400 && !HasErrorBody(text))
            {
                bad.Add($"{method} {path} {Trim(body)}: {status} without the error body: '{Trim(text)}'");
            }

            changedInWindow |= status is >= 200 and < 300 && method != "GET";
            if ((i + 1) % Window == 0)
            {
                var now = State(net);
                if (!changedInWindow)
                {
                    Assert.True(before == now, $"requests {i + 1 - Window}-{i} all refused or read-only, yet the state or the kernel changed");
                }

                (before, changedInWindow) = (now, false);
            }
        }

        Assert.True(bad.Count == 0, string.Join("\n", bad));
        Assert.Equal(0, net.Arcbox("ls").ExitCode);

        // The requests reached every kind of answer, not only one refusal.
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 3 && statuses.ContainsKey(200), string.Join(", ", statuses.Select(kv => $"{kv.Key}: {kv.Value}")));
    }

    private static (string Method, string Path, string? Body) Generate(Random random)
    {
        string Pick(string[] from) => from[random.Next(from.Length)];
        var name = Uri.EscapeDataString(Pick(Names));
        if (random.Next(4) == 0)
        {
            name = Pick(Names);
        }

        var paths = new[]
        {
            "/v1/sandboxes", $"/v1/sandboxes/{name}", $"/v1/sandboxes/{name}/policy?format={Pick(Values)}", $"/v1/sandboxes/{name}/explain",
            $"/v1/sandboxes/{name}/logs?limit={Pick(Values)}&cursor={Pick(Values)}", $"/v1/logs?denied={Pick(Values)}", $"/v1/sandboxes/{name}/stats",
            $"/v1/forwards?host={Pick(Values)}&port={Pick(Values)}&protocol={Pick(["tcp", "udp", "sctp", ""])}", "/v1/forwards", "/v1/dns/query",
            $"/v1/sandboxes/{name}/dns-log", $"/v1/sandboxes/{name}/vm", $"/v1/sandboxes/{name}/vm/stop?grace={Pick(Values)}",
            $"/v1/sandboxes/{name}/vm/console?offset={Pick(Values)}", "/v1/health", "/v1/stats?rules=" + Pick(Values), "/v1/nothing", "/", "/v1/sandboxes/" + name + "/" + name,
        };
        var method = Pick(["GET", "POST", "PUT", "DELETE", "PATCH", "POST", "PUT"]);
        var body = random.Next(3) switch
        {
            0 => null,
            1 => Mutate(Pick(Bodies), random),
            _ => random.Next(2) == 0 ? Pick(Bodies) : RandomJson(random, 0),
        };

        // Deletes of the one sandbox would leave nothing for the rest to work on.
        var path = Pick(paths);
        if (method == "DELETE" && path == "/v1/sandboxes/web")
        {
            method = "GET";
        }

        return (method, path, body);
    }

    private static string Mutate(string json, Random random)
    {
        var chars = json.ToCharArray().ToList();
        for (var n = random.Next(1, 6); n > 0 && chars.Count > 0; n--)
        {
            var at = random.Next(chars.Count);
            switch (random.Next(4))
            {
                case 0:
                    chars.RemoveAt(at);
                    break;
                case 1:
                    chars.Insert(at, Noise[random.Next(Noise.Length)]);
                    break;
                case 2:
                    chars[at] = (char)random.Next(32, 0x3000);
                    break;
                default:
                    chars.RemoveRange(at, chars.Count - at);
                    break;
            }
        }

        return new string([.. chars]);
    }

    private static string RandomJson(Random random, int depth) => random.Next(depth > 3 ? 4 : 7) switch
    {
        0 => random.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        1 => JsonSerializer.Serialize(new string((char)random.Next(32, 0x2000), random.Next(0, 40))),
        2 => "null",
        3 => random.Next(2) == 0 ? "true" : "1e400",
        4 => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => RandomJson(random, depth + 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ =>
            JsonSerializer.Serialize(new[] { "name", "attach", "policy", "yaml", "file", "ipv4", "tapOwner", "hostPort", "port", "peer", "direction", "protocol", "type", "x" }[random.Next(14)])
            + ":" + RandomJson(random, depth + 1))) + "}",
    };

    private static bool HasErrorBody(string text)
    {
        try
        {
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            return error.GetProperty("code").GetString() is { Length: > 0 } && error.GetProperty("message").GetString() is { Length: > 0 };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string Trim(string? text) => text is null ? "" : text.Length > 200 ? text[..200] + "..." : text;

    private static string State(TestNetwork net) =>
        net.Arcbox("ls", "--json").Stdout + System.Text.RegularExpressions.Regex.Replace(net.NftList("ruleset"), @"packets \d+ bytes \d+", "") + net.Host.Exec("ip", "-o", "link").Stdout;
}
