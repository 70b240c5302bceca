using System.Diagnostics;

namespace ArcBox.Testing;

/// <summary>
/// Waits for something a test can observe instead of sleeping for a guessed time: a slow machine gets the whole
/// deadline, a fast one goes on at once, and a timeout says what was awaited and what was seen last. Only for
/// things that must happen; a test that asserts something does not happen has nothing to wait for and keeps its
/// sleep.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>Polls until <paramref name="condition"/> holds. Use the other overload when the value is worth showing.</summary>
    public static void Until(Func<bool> condition, TimeSpan deadline, string what) =>
        Until(condition, holds => holds, deadline, what);

    /// <summary>
    /// Observes until <paramref name="done"/> accepts an observation, and returns it; after
    /// <paramref name="deadline"/> throws a <see cref="TimeoutException"/> with the last one. An exception from
    /// <paramref name="observe"/> is a failure, not a "not yet".
    /// </summary>
    public static T Until<T>(Func<T> observe, Func<T, bool> done, TimeSpan deadline, string what, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // The clock is read before observing, so the last observation is made after the deadline has passed:
            // a wait gives up no sooner than it says, however long one observation takes.
            var late = clock.Elapsed >= deadline;
            var seen = observe();
            if (done(seen))
            {
                return seen;
            }

            if (late)
            {
                throw new TimeoutException($"waited {deadline.TotalSeconds:0.###} s for {what}; last observed:{Describe(seen)}");
            }

            Thread.Sleep(interval ?? Interval);
        }
    }

    private static string Describe<T>(T seen)
    {
        var text = seen?.ToString() ?? "null";
        return text.Contains('\n', StringComparison.Ordinal) ? "\n" + text : " " + text;
    }
}
