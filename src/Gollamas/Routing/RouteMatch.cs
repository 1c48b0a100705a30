namespace Gollamas.Routing;

/// <summary>What a requested model name resolved to.</summary>
internal readonly record struct RouteMatch(ModelRoute Route, bool IsAlias);
