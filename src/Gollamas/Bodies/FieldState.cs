namespace Gollamas.Bodies;

/// <summary>What <see cref="JsonBodyScan"/> found of one watched field.</summary>
internal struct FieldState
{
    /// <summary>The value Go reads; absent when none, or the last is null (for an option: or an <c>options</c> null came after it).</summary>
    public BodyValue Value;

    /// <summary>Whether the field has more members than <see cref="BodyLayout.MaxMembers"/>: they cannot all be stripped.</summary>
    public bool TooManyMembers;
}
