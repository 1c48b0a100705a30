using System.Text;
using Gollamas.Bodies;
using Gollamas.Tests.GoReference;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Primitives;
using Xunit.Abstractions;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// The transcription form reading checked against Go itself (<see cref="GoFormValue"/>: the
/// standard library's ParseMultipartForm and FormValue("model"), as Ollama calls them) over a
/// corpus: the misread shapes, every form of the other tests, and thousands of forms mutated from
/// fixed seeds. For every body the proxy either refuses or finds exactly Go's model, the same
/// bytes; and it reads the body the same way whatever the chunks it is fed in.
/// </summary>
public sealed class FormModelDifferentialTests(ITestOutputHelper output)
{
    private const string Boundary = "7MA4YWxk-TrZu0gW";
    private const string ContentType = $"multipart/form-data; boundary={Boundary}";

    private static readonly string[] s_seeds =
    [
        $"--{Boundary}\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\nContent-Type: audio/wav\n\nRIFF\0\u0001 audio\n--{Boundary}\nContent-Disposition: form-data; name=\"model\"\n\nllama3.2\n--{Boundary}\nContent-Disposition: form-data; name=\"model\"\n\nnomic-embed-text\n--{Boundary}--\n",
        $"--{Boundary}\nContent-Disposition: form-data; name=model\n\nllama3.2\n--{Boundary}\nContent-Disposition: form-data; name=\"language\"\n\nen\n--{Boundary}\nContent-Disposition: form-data; name=\"model\"\n\nnomic-embed-text\n--{Boundary}--",
        $"preamble\n--{Boundary}  \nContent-Type: text/plain; charset=utf-8\nContent-Disposition: form-data; name=\"prompt\"\n\nhi\n--{Boundary}\nContent-Disposition: form-data; name=\"model\"; filename=\"\"\nContent-Transfer-Encoding: 8bit\n\nllama3.2\n--{Boundary}--  \nepilogue\n",
        $"--{Boundary}\nContent-Disposition: form-data; name=file; filename=a.wav; filename*=utf-8''a.wav\n\nRIFF\n--{Boundary}\nContent-Disposition: attachment; name=\"model\"\n\nnomic-embed-text\n--{Boundary}\nContent-Disposition: form-data; name=\"model\"\n\nllama3.2\n--{Boundary}--\n",
    ];

    private static readonly string[] s_snippets =
    [
        "\r\n", "\n", "\r", " ", "\t", ";", "\"", "\\\"", "\\", "*", "=", ":", "-", "--",
        "; name=model", " name=\"model\"", "; name*=utf-8''model", "; name*0=model", "; filename=\"a\"", "; filename*=utf-8''", "; filename=\"\"", "; x",
        "\r\n ", "\r\n\t", " :", "Content-Disposition: form-data; name=\"model\"\r\n", "Content-Disposition : ", "Content-Transfer-Encoding: quoted-printable\r\n",
        $"\r\n--{Boundary}\r\n", $"\r\n--{Boundary}", $"--{Boundary}", $"--{Boundary}--", $"\n--{Boundary}\n", "\r\n\r\n", "\r\r\n",
        "\u00a0", "\u0085", "llama3.2", "nomic-embed-text", "attachment", "FORM-DATA", "=3D", "\0",
    ];

    private static readonly string[] s_contentTypeSnippets = [" ", "\t", ";", "\"", "\\", "*", "=", ",", "x", "; boundary=x", "; charset=utf-8", "Boundary", "boundary*"];

    private static readonly byte[] s_palette = [.. "-\r\n:;=\"\\* \tmodelnamefiledata"u8, 0x00, 0x7F, 0x80, 0x85, 0xA0, 0xC2, 0xFF];

    [GoFact]
    public async Task Scan_CorpusOfFormsMutatedFromFixedSeeds_RefusedOrReadsExactlyGosModel()
    {
        var corpus = Corpus();

        var go = await GoFormValue.RunAsync([.. corpus.Select(static c => (c.ContentTypes, c.Body))]);

        var random = new Random(20_261_203);
        var failures = new List<string>();
        int agreed = 0, refusedGoRead = 0, refusedGoFailed = 0;
        for (var i = 0; i < corpus.Count; i++)
        {
            var (contentTypes, body, origin) = corpus[i];
            var (result, value) = Read(contentTypes, body, random, failures);
            if (result.Status == PeekStatus.Found)
            {
                var expected = "ok " + Convert.ToHexString(value).ToLowerInvariant();
                if (go[i] == expected)
                {
                    agreed++;
                }
                else
                {
                    failures.Add($"{origin}: the proxy found '{Encoding.UTF8.GetString(value)}', Go said '{go[i]}' for [{string.Join(" | ", contentTypes)}] {Convert.ToBase64String(body)}");
                }
            }
            else if (go[i].StartsWith("error ", StringComparison.Ordinal))
            {
                refusedGoFailed++;
            }
            else if (go[i] != "ok ")
            {
                refusedGoRead++;
            }
        }

        output.WriteLine($"{corpus.Count} forms: {agreed} read as Go reads them, {refusedGoFailed} refused by both, {refusedGoRead} refused though Go reads a model");
        failures.Should().BeEmpty();
        agreed.Should().BeGreaterThan(corpus.Count / 5, "the check must not be vacuous: many of the forms name a model");
    }

    [GoFact]
    public async Task MisreadShapes_GoNeverReadsTheModelALooserReadingTook()
    {
        var shapes = MisreadForms.All.ToList();

        var go = await GoFormValue.RunAsync([.. shapes.Select(static s => (s.ContentTypes, s.Body))]);

        go.Should().NotContain("ok " + Convert.ToHexString("llama3.2"u8).ToLowerInvariant(), "each shape is a form Go reads otherwise");
        go.Should().Contain("ok " + Convert.ToHexString("nomic-embed-text"u8).ToLowerInvariant());
    }

    /// <summary>
    /// Reads the body whole, then fed in random chunks: the two readings must agree. Returns the
    /// whole reading and the model value's bytes in the body.
    /// </summary>
    private static (ModelPeekResult Result, byte[] Value) Read(string[] contentTypes, byte[] body, Random random, List<string> failures)
    {
        var name = new char[ModelPeek.MaxNameChars];
        var result = FormModelPeek.Peek(body, new StringValues(contentTypes), name);

        var fedName = new char[ModelPeek.MaxNameChars];
        using var scan = new FormModelScan(new StringValues(contentTypes));
        for (var at = 0; at < body.Length;)
        {
            var length = Math.Min(random.Next(1, 40), body.Length - at);
            scan.Feed(body.AsSpan(at, length));
            at += length;
        }

        var fed = scan.Complete(fedName);
        if (fed != result || !fedName.AsSpan(0, fed.NameLength).SequenceEqual(name.AsSpan(0, result.NameLength)))
        {
            failures.Add($"whole {result}, in chunks {fed}: {Convert.ToBase64String(body)}");
        }

        var value = result.Status == PeekStatus.Found ? body.AsSpan(result.TokenStart, result.TokenLength).ToArray() : [];
        if (result.Status == PeekStatus.Found && new string(name, 0, result.NameLength) != Encoding.UTF8.GetString(value))
        {
            failures.Add($"name '{new string(name, 0, result.NameLength)}' is not the value's bytes: {Convert.ToBase64String(body)}");
        }

        return (result, value);
    }

    private static List<(string[] ContentTypes, byte[] Body, string Origin)> Corpus()
    {
        var corpus = new List<(string[] ContentTypes, byte[] Body, string Origin)>();
        foreach (var shape in MisreadForms.All)
        {
            corpus.Add((shape.ContentTypes, shape.Body, shape.Name));
        }

        foreach (var row in FormModelScanTests.Found.Concat(FormModelScanTests.Refused))
        {
            var contentType = (string?)row[1];
            corpus.Add((contentType is null ? [] : [contentType], Crlf((string)row[0]), "FormModelScanTests"));
        }

        foreach (var seed in s_seeds)
        {
            corpus.Add(([ContentType], Crlf(seed), "seed"));
            corpus.Add(([ContentType], Encoding.UTF8.GetBytes(seed), "seed, LF"));
        }

        var random = new Random(20_261_204);
        for (var i = 0; i < 4_000; i++)
        {
            var seed = s_seeds[random.Next(s_seeds.Length)];
            var body = (random.Next(4) == 0 ? Encoding.UTF8.GetBytes(seed) : Crlf(seed)).ToList();
            var edits = random.Next(1, 4);
            var mutated = random.Next(2) == 0
                ? ByteMutations.Apply(body, edits, random, () => s_palette[random.Next(s_palette.Length)])
                : Splice(body, edits, random, s_snippets);
            string[] contentTypes = random.Next(8) switch
            {
                0 => [Encoding.Latin1.GetString(Splice([.. Encoding.Latin1.GetBytes(ContentType)], 1, random, s_contentTypeSnippets))],
                1 => [ContentType, $"multipart/form-data; boundary={Boundary}x"],
                2 => [$"multipart/form-data; boundary=\"{Boundary}\""],
                _ => [ContentType],
            };
            corpus.Add((contentTypes, mutated, $"mutation {i}"));
        }

        return corpus;
    }

    /// <summary>Inserts <paramref name="edits"/> snippets at random places, each replacing up to two bytes there.</summary>
    private static byte[] Splice(List<byte> body, int edits, Random random, string[] snippets)
    {
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(body.Count + 1);
            var removed = Math.Min(random.Next(3), body.Count - at);
            body.RemoveRange(at, removed);
            body.InsertRange(at, Encoding.UTF8.GetBytes(snippets[random.Next(snippets.Length)]));
        }

        return [.. body];
    }

    private static byte[] Crlf(string text) => Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n", StringComparison.Ordinal));
}
