using ArcBox.Daemon.Datapath;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// The one lock every change request takes (creates, removes, policy swaps, forwards, VM starts): changes are
/// serialised, reads never wait. It also tells the connection forgetter when requests run, so that its walks of the
/// conntrack table find a quiet moment.
/// </summary>
public sealed class ChangeGate(IConnectionForgetter forgetter) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);

    public async Task<T> RunAsync<T>(Func<T> action, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        forgetter.RequestStarted();
        try
        {
            return action();
        }
        finally
        {
            forgetter.RequestEnded();
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();
}
