namespace Gollamas.Bench.Load;

/// <summary>Progress lines on stderr, so stdout holds only the table.</summary>
internal static class Progress
{
    public static void Say(string message) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");
}
