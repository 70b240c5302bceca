namespace ArcBox.Dns.Server;

/// <summary>One query as `arcbox logs --dns` shows it.</summary>
/// <param name="Verdict">"local", "forwarded", "refused", "nxdomain", "servfail", "rate-limited".</param>
/// <param name="Admitted">Addresses opened in the firewall for domains rules, with the rule ids.</param>
public sealed record QueryLogEntry(DateTimeOffset Time, string Sandbox, string Name, string Type, string Verdict, IReadOnlyList<string> Answers, IReadOnlyList<string> Admitted, double Milliseconds);
