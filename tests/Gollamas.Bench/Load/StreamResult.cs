namespace Gollamas.Bench.Load;

/// <summary>What one streamed exchange delivered, as the client saw it.</summary>
/// <param name="Status">HTTP status, 0 when no status line arrived.</param>
/// <param name="FirstBodyByte">Time from the last request byte sent to the first body byte read.</param>
/// <param name="Lines">NDJSON lines in the decoded body.</param>
/// <param name="Complete">The body ended with its terminating chunk (or its full length).</param>
/// <param name="Error">Why the exchange failed, or null.</param>
internal readonly record struct StreamResult(int Status, TimeSpan FirstBodyByte, int Lines, bool Complete, string? Error);
