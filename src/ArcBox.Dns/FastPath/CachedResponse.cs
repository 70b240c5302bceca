namespace ArcBox.Dns.FastPath;

/// <summary>
/// The answer section the slow path encoded for one (sandbox, name, type), to be sent again behind a copy of the
/// next query's header and question. Compression pointers in it point into the question or into itself, and a
/// question for the same name (in any letter case) has the same wire length, so the offsets stay valid.
/// </summary>
/// <param name="answers">The bytes after the question and before the OPT record.</param>
/// <param name="ttls">Where, relative to <paramref name="answers"/>, the TTLs that count down sit, and their TTL at <see cref="CacheHint.Stored"/>.</param>
internal sealed class CachedResponse(byte[] answers, ushort answerCount, byte returnCode, (int Offset, int Ttl)[] ttls, CacheHint hint)
{
    public byte[] Answers { get; } = answers;

    public ushort AnswerCount { get; } = answerCount;

    public byte ReturnCode { get; } = returnCode;

    public (int Offset, int Ttl)[] Ttls { get; } = ttls;

    /// <summary>What a hit logs, and how the TTLs count down.</summary>
    public CacheHint Hint { get; } = hint;
}
