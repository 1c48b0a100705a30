namespace Gollamas.Tests.Infrastructure;

/// <summary>The edits the fuzz tests make to a valid body: bytes replaced, removed or inserted at random places.</summary>
internal static class ByteMutations
{
    /// <summary>
    /// Makes <paramref name="edits"/> edits to <paramref name="body"/>, each at a random place with a
    /// byte from <paramref name="nextByte"/>: a replacement, a removal or an insertion (always an
    /// insertion at the very end). All draws come from <paramref name="random"/>, so a fixed seed
    /// gives the same bodies every run.
    /// </summary>
    public static byte[] Apply(List<byte> body, int edits, Random random, Func<byte> nextByte)
    {
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(body.Count + 1);
            var value = nextByte();
            switch (random.Next(3))
            {
                case 0 when at < body.Count:
                    body[at] = value;
                    break;
                case 1 when at < body.Count:
                    body.RemoveAt(at);
                    break;
                default:
                    body.Insert(at, value);
                    break;
            }
        }

        return [.. body];
    }
}
