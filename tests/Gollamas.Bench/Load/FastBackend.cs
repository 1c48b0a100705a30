namespace Gollamas.Bench.Load;

/// <summary>The fast fake Ollama backend.</summary>
public static class FastBackend
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("backend: not written yet");
        return Task.FromResult(1);
    }
}
