namespace Gollamas.Bench.Load;

/// <summary>Entry point of the load run.</summary>
public static class LoadRun
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("load: not written yet");
        return Task.FromResult(1);
    }
}
