namespace ArcBox.Daemon.Api;

/// <param name="Type">A record type name: A (default), AAAA, CNAME, TXT, PTR, ANY ...</param>
public sealed record DnsQueryRequest(string? Sandbox, string? Name, string? Type);
