namespace Gollamas.Bodies;

/// <summary>
/// One change to a request body: the <paramref name="Length"/> bytes at <paramref name="Start"/>
/// give way to <paramref name="Replacement"/>. A length of 0 inserts at <paramref name="Start"/>.
/// </summary>
internal readonly record struct BodySplice(int Start, int Length, ReadOnlyMemory<byte> Replacement)
{
    /// <summary>The first byte after the replaced range.</summary>
    public int End => Start + Length;
}
