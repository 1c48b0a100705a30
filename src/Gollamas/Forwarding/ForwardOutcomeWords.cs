namespace Gollamas.Forwarding;

/// <summary>A <see cref="ForwardOutcome"/> as the logs say it: words, not the enum's names.</summary>
internal static class ForwardOutcomeWords
{
    /// <summary>"unreachable", "timed out", ...: what the server did, to follow "failed (" or "a request found it".</summary>
    public static string Describe(ForwardOutcome outcome) => outcome switch
    {
        ForwardOutcome.Success => "answering",
        ForwardOutcome.BackendUnreachable => "unreachable",
        ForwardOutcome.BackendTimedOut => "timed out",
        ForwardOutcome.BackendRefused => "answering with a server error or 429",
        ForwardOutcome.BackendStreamBroken => "breaking its stream",
        ForwardOutcome.ShuttingDown => "cut by the shutdown",
        _ => "left by its client",
    };
}
