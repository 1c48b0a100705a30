namespace Gollamas.Bodies;

/// <summary>The kinds of token that can be longer than <see cref="JsonBodyScan"/>'s window.</summary>
internal enum LongTokenKind
{
    /// <summary>No long token is being read.</summary>
    None,

    String,

    Number,
}
