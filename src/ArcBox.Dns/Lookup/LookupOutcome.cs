namespace ArcBox.Dns.Lookup;

public enum LookupOutcome
{
    /// <summary>Answered from local data (possibly with no records of the asked type: NODATA).</summary>
    Answer,

    /// <summary>Not local and allowed: ask the upstreams for <see cref="LookupResult.ForwardName"/>.</summary>
    Forward,

    /// <summary>A name in our zone, or a local record's name, that does not exist.</summary>
    NxDomain,

    /// <summary>Not local and this sandbox may not resolve it upstream.</summary>
    Refused,
}
