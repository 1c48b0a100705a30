namespace Gollamas.Bodies;

/// <summary>What a <see cref="RequestRule"/> does to its field in a request body.</summary>
internal enum RuleAction
{
    /// <summary>Sets the value when the request has none: no member, or the last one Go reads is null.</summary>
    Default,

    /// <summary>Sets the value whatever the request has.</summary>
    Force,

    /// <summary>Removes every member Go would read the field from, so Ollama sees none.</summary>
    Strip,
}
