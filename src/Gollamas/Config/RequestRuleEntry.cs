using Gollamas.Bodies;

namespace Gollamas.Config;

/// <summary>
/// One request rule as a source gave it, still unvalidated: for a model (any spelling of a
/// configured model or alias) or for every model (null), set a field when absent, force it, or
/// strip it.
/// </summary>
/// <param name="Model">The model as written; null for a rule of every model.</param>
/// <param name="Action">What the rule does.</param>
/// <param name="Field">A top-level member name (<c>think</c>) or <c>options.NAME</c>, as written.</param>
/// <param name="Value">The value as JSON text (<c>0.2</c>, <c>"5m"</c>, <c>{"type":"object"}</c>); null for a strip.</param>
/// <param name="Source">Where it came from, for errors: a file and the rule's place in it.</param>
internal sealed record RequestRuleEntry(string? Model, RuleAction Action, string Field, string? Value, string Source);
