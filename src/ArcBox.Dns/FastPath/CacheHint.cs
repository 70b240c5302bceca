using ARSoft.Tools.Net.Dns;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// What the slow path tells the response cache about an answer it may keep: what to log on a hit, and how its
/// TTLs count down. The slow path gives one only when the answer opened nothing in the firewall (admissions must
/// always go through it) and did not depend on a failure.
/// </summary>
/// <param name="Name">The asked name as the query log shows it.</param>
/// <param name="Records">The answer's records, shared by the log entries of every hit.</param>
/// <param name="AgingTtls">Per answer record in order: the TTL to count down from <paramref name="Stored"/>, or 0 for a
/// fixed TTL (local records, and upstream types the answer cache does not age).</param>
/// <param name="Stored">When the upstream answer was stored (a TimeProvider timestamp); unused for local answers.</param>
/// <param name="Lifetime">Seconds from <paramref name="Stored"/> the upstream answer stays valid; <see cref="int.MaxValue"/>
/// for local answers, which stay valid as long as the snapshot they came from.</param>
internal sealed record CacheHint(string Name, RecordType Type, string Verdict, IReadOnlyList<DnsRecordBase> Records, int[] AgingTtls, long Stored, int Lifetime)
{
    public const int Forever = int.MaxValue;
}
