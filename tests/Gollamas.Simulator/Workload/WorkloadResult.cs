namespace Gollamas.Simulator.Workload;

/// <summary>Every request of one run, in the order they were sent.</summary>
public sealed record WorkloadResult(WorkloadOptions Options, IReadOnlyList<string> Popularity, IReadOnlyList<RequestRecord> Requests);
