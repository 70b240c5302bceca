using System.Net;

namespace ArcBox.Daemon.Datapath;

/// <summary>What the lifecycle asks of <see cref="ConnectionForgetter"/>.</summary>
public interface IConnectionForgetter
{
    void Forget(string sandbox, IEnumerable<IPAddress> addresses);

    void Settle(IReadOnlyCollection<IPAddress> addresses);

    void RequestStarted();

    void RequestEnded();
}
