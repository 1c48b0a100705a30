namespace Gollamas.Connections;

/// <summary>How long a request may wait for a slot on a busy server, and the clock it waits by.</summary>
internal sealed record QueuePolicy(TimeSpan Timeout, TimeProvider Time);
