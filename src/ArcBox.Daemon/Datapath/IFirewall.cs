using System.Net;
using ArcBox.Netfilter.Plan;

namespace ArcBox.Daemon.Datapath;

/// <summary>Our nft tables as the lifecycle and the features change them (<see cref="Firewall"/>): each call is one
/// kernel transaction that goes in whole or not at all.</summary>
public interface IFirewall
{
    void LoadAll(IReadOnlyCollection<SandboxPlan> plans, IEnumerable<NftElement> forwards);

    void Add(SandboxPlan plan);

    void Replace(SandboxPlan plan);

    bool Remove(string name);

    void Elements(IEnumerable<NftElement> remove, IEnumerable<NftElement> add);

    void Admit(string sandbox, IEnumerable<(string Set, IPAddress Address, int Seconds)> elements);
}
