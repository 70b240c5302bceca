namespace ArcBox.Cli.Infrastructure;

/// <summary>
/// Ctrl-C for a command that follows something until interrupted: the first Ctrl-C cancels <see cref="Token"/>
/// instead of killing the process, so the command can stop what it started and exit with its own code.
/// </summary>
public sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly ConsoleCancelEventHandler handler;

    private Interrupt()
    {
        handler = (_, e) =>
        {
            e.Cancel = true;
            source.Cancel();
        };
        Console.CancelKeyPress += handler;
    }

    public CancellationToken Token => source.Token;

    public bool Requested => source.IsCancellationRequested;

    public static Interrupt Watch() => new();

    /// <summary>Waits for <paramref name="delay"/>; true when Ctrl-C came first.</summary>
    public async Task<bool> WaitAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, source.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= handler;
        source.Dispose();
    }
}
