using System.Text;
using Gollamas.Bodies;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <see cref="JsonBodyScan"/> fed a body in chunks of random sizes must read it exactly as when
/// fed the body whole (<see cref="ModelPeek.Peek"/>, <see cref="RequestDefaultsSplice.Apply(ForwardBody, RequestDefaults)"/>):
/// the same status, token, name and detail, and the same splices planned from its layout (values,
/// and the members of stripped fields, for every rule set of <see cref="RequestDefaultsSpliceFuzzTests"/>). The
/// bodies are those of <see cref="ModelPeekFuzzTests"/> and <see cref="RequestDefaultsSpliceFuzzTests"/>,
/// truncated and mutated the same way, with the smallest window so that every cut is exercised.
/// </summary>
public sealed class JsonBodyScanFuzzTests
{
    // The smallest window: long strings, numbers and white-space runs go through the long-token
    // check and the stand-ins in almost every body.
    private const int WindowSize = JsonBodyScan.MinWindowSize;

    // Every field any of the rule sets names: each set is planned from the one streamed layout.
    private static readonly WatchedFields s_watched = WatchedFields.Of(RequestDefaultsSpliceFuzzTests.Settings);

    [Fact]
    public void Scan_EveryTruncationOfValidBodiesInRandomChunks_ReadsAsTheWholeBody()
    {
        var random = new Random(31);
        var failures = new List<string>();

        foreach (var seed in ModelPeekFuzzTests.Seeds.Concat(RequestDefaultsSpliceFuzzTests.Seeds))
        {
            var bytes = Encoding.UTF8.GetBytes(seed);
            for (var length = 0; length <= bytes.Length; length++)
            {
                Check(bytes.AsSpan(0, length).ToArray(), random, failures);
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Scan_MutatedBodiesInRandomChunks_ReadsAsTheWholeBody()
    {
        var random = new Random(20_261_203);
        var failures = new List<string>();

        for (var i = 0; i < 3_000; i++)
        {
            var seeds = i % 2 == 0 ? ModelPeekFuzzTests.Seeds : RequestDefaultsSpliceFuzzTests.Seeds;
            var palette = i % 2 == 0 ? ModelPeekFuzzTests.Palette : RequestDefaultsSpliceFuzzTests.Palette;
            var body = Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Count)]).ToList();
            var bytes = ByteMutations.Apply(body, random.Next(0, 4), random, () => random.Next(3) == 0 ? (byte)random.Next(256) : palette[random.Next(palette.Count)]);
            Check(bytes, random, failures);
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Scan_BodiesWithARunLongerThanTheWindowMutatedInAndAroundIt_ReadsAsTheWholeBody()
    {
        // Runs that make long strings, numbers, keys and white space wherever they land, with
        // the mutations where the long-token check must judge them.
        string[] runs = ["a", "7", " ", "\t\r\n", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\\"", "\u00e9", "0e"];
        var random = new Random(1_203);
        var failures = new List<string>();

        for (var i = 0; i < 3_000; i++)
        {
            var seeds = i % 2 == 0 ? ModelPeekFuzzTests.Seeds : RequestDefaultsSpliceFuzzTests.Seeds;
            var body = Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Count)]).ToList();
            var run = Encoding.UTF8.GetBytes(runs[random.Next(runs.Length)]);
            var at = random.Next(body.Count + 1);
            var length = random.Next(WindowSize, 4 * WindowSize);
            var inserted = Enumerable.Range(0, length).Select(n => run[n % run.Length]).ToList();
            body.InsertRange(at, inserted);
            for (var edits = random.Next(0, 3); edits > 0; edits--)
            {
                var where = Math.Clamp(at + random.Next(-2, length + 3), 0, body.Count - 1);
                var value = random.Next(3) == 0 ? (byte)random.Next(256) : ModelPeekFuzzTests.Palette[random.Next(ModelPeekFuzzTests.Palette.Count)];
                switch (random.Next(3))
                {
                    case 0:
                        body[where] = value;
                        break;
                    case 1:
                        body.RemoveAt(where);
                        break;
                    default:
                        body.Insert(where, value);
                        break;
                }
            }

            Check([.. body], random, failures);
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Scan_CraftedTrickyBodiesInRandomChunks_ReadsAsTheWholeBody()
    {
        var random = new Random(5);
        var failures = new List<string>();

        foreach (var body in ModelPeekFuzzTests.CraftedBodies())
        {
            Check(body, random, failures);
        }

        failures.Should().BeEmpty();
    }

    private static void Check(byte[] body, Random random, List<string> failures)
    {
        foreach (var acceptName in new[] { false, true })
        {
            var problem = Disagreement(body, acceptName, random);
            if (problem is not null && failures.Count < 20)
            {
                failures.Add($"{problem} (acceptName: {acceptName}) for {Describe(body)}");
            }
        }
    }

    private static string? Disagreement(byte[] body, bool acceptName, Random random)
    {
        var wholeName = new char[ModelPeek.MaxNameChars];
        var whole = ModelPeek.Peek(body, acceptName, wholeName);

        var chunkedName = new char[ModelPeek.MaxNameChars];
        using var scan = new JsonBodyScan(acceptName, WindowSize, s_watched);
        var chunks = new List<int>();
        for (var offset = 0; offset < body.Length;)
        {
            var size = Math.Min(body.Length - offset, ChunkSize(random, body.Length));
            scan.Feed(body.AsSpan(offset, size));
            chunks.Add(size);
            offset += size;
        }

        var chunked = scan.Complete(chunkedName);
        var where = $" in chunks of {string.Join(",", chunks.Take(12))}{(chunks.Count > 12 ? ",..." : "")}";
        if (chunked != whole)
        {
            return $"chunked {chunked}, whole {whole}{where}";
        }

        if (!chunkedName.AsSpan(0, chunked.NameLength).SequenceEqual(wholeName.AsSpan(0, whole.NameLength)))
        {
            return $"name '{new string(chunkedName, 0, chunked.NameLength)}', whole '{new string(wholeName, 0, whole.NameLength)}'{where}";
        }

        foreach (var settings in RequestDefaultsSpliceFuzzTests.Settings)
        {
            var expected = Flatten(RequestDefaultsSplice.Apply(new ForwardBody(body), settings));
            var planned = Flatten(RequestDefaultsSplice.Apply(new ForwardBody(body), scan.Layout, settings));
            if (!planned.AsSpan().SequenceEqual(expected))
            {
                return $"rewritten to {Describe(planned)}, whole body to {Describe(expected)}{where}";
            }
        }

        return null;
    }

    // Mostly tiny chunks, where every token gets cut; sometimes large ones.
    private static int ChunkSize(Random random, int bodyLength) => random.Next(4) switch
    {
        0 => 1,
        1 => random.Next(1, 8),
        2 => random.Next(1, 200),
        _ => random.Next(1, Math.Max(2, bodyLength / 3)),
    };

    private static byte[] Flatten(ForwardBody body)
    {
        var bytes = new byte[body.Length];
        body.CopyTo(bytes);
        return bytes;
    }

    private static string Describe(byte[] body)
    {
        var text = new StringBuilder();
        foreach (var b in body.Take(160))
        {
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return body.Length > 160 ? $"{text}... ({body.Length} bytes)" : text.ToString();
    }
}
