using ArcBox.Policy.Model;

namespace ArcBox.Dns.Lookup;

/// <summary>
/// A policy's records indexed for lookup: exact names in a dictionary, wildcards by suffix, found by walking up
/// the labels of the asked name, longest suffix first. O(labels) per query, whatever the number of records.
/// </summary>
public sealed class RecordIndex
{
    private readonly Dictionary<string, DnsRecord> exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DnsRecord> wildcards = new(StringComparer.Ordinal);

    public RecordIndex(IEnumerable<DnsRecord> records)
    {
        foreach (var r in records)
        {
            (r.Name.IsWildcard ? wildcards : exact).TryAdd(r.Name.Suffix, r);
        }
    }

    /// <param name="name">Lower-case, without the trailing dot.</param>
    public DnsRecord? Find(string name)
    {
        if (exact.TryGetValue(name, out var record))
        {
            return record;
        }

        if (wildcards.Count == 0)
        {
            return null;
        }

        // "*.svc.internal" matches names strictly below svc.internal: try each proper suffix, longest first.
        for (var dot = name.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = name.IndexOf('.', dot + 1))
        {
            if (wildcards.TryGetValue(name[(dot + 1)..], out record))
            {
                return record;
            }
        }

        return null;
    }
}
