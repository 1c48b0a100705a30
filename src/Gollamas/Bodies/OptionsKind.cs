namespace Gollamas.Bodies;

/// <summary>What the last top-level <c>options</c> value of a request body is to Go's decoder.</summary>
internal enum OptionsKind
{
    /// <summary>No <c>options</c> key.</summary>
    None,

    /// <summary><c>null</c>: the map is reset to nil.</summary>
    Null,

    /// <summary>An object, merged into the map the earlier ones built.</summary>
    Object,

    /// <summary>Any other type: Go refuses the body.</summary>
    Invalid,
}
