using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.Lookup;

namespace ArcBox.Dns.Server;

/// <summary>One query as `arcbox logs --dns` shows it. Answers are kept as records and formatted only when read:
/// the resolver writes an entry per query, and the log is read rarely.</summary>
/// <param name="Verdict">"local", "forwarded", "refused", "nxdomain", "servfail".</param>
public sealed class QueryLogEntry(DateTimeOffset time, string sandbox, string name, RecordType type, string verdict, IReadOnlyList<DnsRecordBase> records, IReadOnlyList<Admission> admissions, double milliseconds)
{
    public DateTimeOffset Time { get; } = time;

    /// <summary>Its place in the log, in the order entries were added (a cursor for followers).</summary>
    public long Sequence { get; internal set; }

    public string Sandbox { get; } = sandbox;

    public string Name { get; } = name;

    public string Type => type.ToString().ToUpperInvariant();

    public string Verdict { get; } = verdict;

    public IReadOnlyList<string> Answers => [.. records.Select(Describe)];

    /// <summary>Addresses opened in the firewall for domains rules, with the rule ids and how long.</summary>
    public IReadOnlyList<string> Admitted => [.. admissions.Select(a => $"{a.Address} ({a.Rule.Id}, {a.TtlSeconds}s)")];

    public double Milliseconds { get; } = milliseconds;

    private static string Describe(DnsRecordBase r) => r switch
    {
        ARecord a => $"A {a.Address}",
        AaaaRecord a => $"AAAA {a.Address}",
        CNameRecord c => $"CNAME {LocalResolver.Text(c.CanonicalName)}",
        TxtRecord t => $"TXT \"{t.TextData}\"",
        PtrRecord p => $"PTR {LocalResolver.Text(p.PointerDomainName)}",
        _ => r.RecordType.ToString().ToUpperInvariant(),
    };
}
