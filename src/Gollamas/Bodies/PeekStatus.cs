namespace Gollamas.Bodies;

/// <summary>What <see cref="ModelPeek"/> (or <see cref="FormModelPeek"/>) found in a request body.</summary>
internal enum PeekStatus
{
    /// <summary>A non-empty model name was found.</summary>
    Found,

    /// <summary>The body is empty or white space only.</summary>
    EmptyBody,

    /// <summary>The body is not valid JSON.</summary>
    InvalidJson,

    /// <summary>The body is JSON but not an object.</summary>
    NotAnObject,

    /// <summary>The model key holds something other than a string or null.</summary>
    ModelNotAString,

    /// <summary>No model key, or an empty or null one.</summary>
    ModelMissing,

    /// <summary>The model value is longer than any valid model name can be.</summary>
    ModelTooLong,

    /// <summary>A multipart form Go would refuse, or that is refused as not plain enough to read as Go does (the detail is the client's message).</summary>
    InvalidForm,
}
