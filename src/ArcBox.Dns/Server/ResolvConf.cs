using System.Net;

namespace ArcBox.Dns.Server;

/// <summary>The host's resolvers from /etc/resolv.conf: the default upstreams.</summary>
public static class ResolvConf
{
    public static IReadOnlyList<IPEndPoint> Nameservers(string path = "/etc/resolv.conf")
    {
        try
        {
            return [.. File.ReadLines(path)
                .Select(l => l.Trim())
                .Where(l => l.StartsWith("nameserver", StringComparison.Ordinal))
                .Select(l => l["nameserver".Length..].Trim())
                .Select(a => IPAddress.TryParse(a.Split('%')[0], out var ip) ? ip : null)
                .Where(ip => ip is not null && !IPAddress.IsLoopback(ip))
                .Select(ip => new IPEndPoint(ip!, 53))];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
