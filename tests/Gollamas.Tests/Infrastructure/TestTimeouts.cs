using System.Runtime.CompilerServices;

namespace Gollamas.Tests.Infrastructure;

/// <summary>
/// Bounded waits for tests: every await on a signal goes through <see cref="DefaultTimeout(Task, TimeSpan?, string, int)"/>
/// so a broken test fails with the line that waited instead of hanging the run.
/// </summary>
public static class TestTimeouts
{
    /// <summary>Generous enough for a loaded 2-core CI machine; a healthy wait takes milliseconds.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    public static async Task DefaultTimeout(
        this Task task,
        TimeSpan? timeout = null,
        [CallerFilePath] string file = "",
        [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        var limit = timeout ?? Default;
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException ex) when (!task.IsCompleted)
        {
            throw Timeout(limit, file, line, ex);
        }
    }

    public static async Task<T> DefaultTimeout<T>(
        this Task<T> task,
        TimeSpan? timeout = null,
        [CallerFilePath] string file = "",
        [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        var limit = timeout ?? Default;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException ex) when (!task.IsCompleted)
        {
            throw Timeout(limit, file, line, ex);
        }
    }

    private static TimeoutException Timeout(TimeSpan limit, string file, int line, TimeoutException inner) =>
        new($"The operation awaited at {file}:{line} did not complete within {limit.TotalSeconds:0.###} s.", inner);
}
