namespace Gollamas.Config;

/// <summary>The three shapes of a YAML node.</summary>
internal enum ConfigNodeKind
{
    /// <summary>One value: <c>10s</c>, <c>"http://gpu1:11434"</c>, or nothing (<c>~</c>, <c>null</c>, empty).</summary>
    Scalar,

    /// <summary>A list: <c>[gpu1, cpu1]</c>, or lines starting with <c>- </c>.</summary>
    Sequence,

    /// <summary>Keys and values: <c>{url: ..., max_concurrency: 2}</c>, or indented <c>key: value</c> lines.</summary>
    Mapping,
}
