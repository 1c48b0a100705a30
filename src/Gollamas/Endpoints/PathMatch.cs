namespace Gollamas.Endpoints;

/// <summary>How a row of the endpoint table matches a request path.</summary>
internal enum PathMatch
{
    /// <summary>The path exactly, byte for byte.</summary>
    Exact,

    /// <summary>
    /// The path up to its <c>{parameter}</c>, then one segment: at least one character and no
    /// <c>/</c>, then what follows the parameter in the row's path, if anything (<c>/drain</c>).
    /// </summary>
    Segment,

    /// <summary>The path up to its <c>{parameter}</c>, then at least one character of any kind.</summary>
    Rest,
}
