namespace Gollamas.Bodies;

/// <summary>
/// One member of a stripped field, where <see cref="JsonBodyScan"/> found it: enough to cut it out
/// with the comma that goes with it, without reading the body again.
/// </summary>
internal struct BodyMember
{
    /// <summary>The watched field (its index in <see cref="WatchedFields"/>).</summary>
    public int Field;

    /// <summary>The opening brace of the <c>options</c> object it is in; -1 at the top level.</summary>
    public int ObjectStart;

    /// <summary>The end of the value of the member before it in its object; -1 when it is the first.</summary>
    public int PreviousValueEnd;

    /// <summary>Its key's opening quote.</summary>
    public int KeyStart;

    /// <summary>The first byte after its value.</summary>
    public int ValueEnd;

    /// <summary>The key of the member after it in its object; -1 when it is the last.</summary>
    public int NextKeyStart;
}
