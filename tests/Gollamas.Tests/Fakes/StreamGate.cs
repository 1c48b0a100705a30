namespace Gollamas.Tests.Fakes;

/// <summary>Holds one <see cref="StreamScript"/> step back until the test calls <see cref="Open"/>.</summary>
public sealed class StreamGate
{
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsOpen => _opened.Task.IsCompleted;

    internal Task WhenOpen => _opened.Task;

    public void Open() => _opened.TrySetResult();
}
