using ARSoft.Tools.Net.Dns;

namespace ArcBox.Dns.Server;

/// <summary>An upstream answer as the <see cref="AnswerCache"/> stored it: records with their TTLs as received.</summary>
/// <param name="Ttl">Seconds it stays valid (the smallest record TTL, capped).</param>
/// <param name="Stored">When it was stored, a <see cref="TimeProvider.GetTimestamp"/> value.</param>
internal sealed record CachedAnswer(ReturnCode Code, List<DnsRecordBase> Records, int Ttl, long Stored)
{
    /// <summary>Whole seconds since it was stored: every reader of the cache ages answers by this one rule.</summary>
    public int Age(TimeProvider time) => (int)time.GetElapsedTime(Stored).TotalSeconds;
}
