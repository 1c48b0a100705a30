namespace Gollamas.Metrics;

/// <summary>The route choice's view of one model on one connection: its generations in flight there and the last estimate.</summary>
internal sealed record RouteEstimate(string Model, string Connection, int Generations, double? Estimate);
