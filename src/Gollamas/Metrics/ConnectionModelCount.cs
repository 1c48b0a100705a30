namespace Gollamas.Metrics;

/// <summary>How many models are routed to one connection, by source (a class, not a tuple: no generic instantiation of its own in the binary).</summary>
internal sealed record ConnectionModelCount(string Connection, int Configured, int Discovered);
