using System.Text;
using Gollamas.Bodies;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Feeds <see cref="FormModelPeek.Peek"/> every truncation of a few valid forms and thousands of
/// mutated ones from fixed seeds. Whatever the bytes, it must not throw (that would be a 500),
/// and a model it reports must be a real slice of the body: inside it, ending right before a
/// delimiter, with the name it wrote being that slice decoded.
/// </summary>
public sealed class FormModelPeekFuzzTests
{
    private const string Boundary = "----fuzz-7MA4YWxkTrZu0gW";

    private static readonly string[] s_seeds =
    [
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\0\u0001 audio\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--{Boundary}--\r\n",
        $"preamble\n--{Boundary}\ncontent-disposition: form-data; NAME=model\n\nllama3.2:latest\n--{Boundary}\nContent-Disposition: form-data; name=\"language\"\n\nen\n--{Boundary}--\n",
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"model\"; filename=\"\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhf.co/x/y:Q4\r\n--{Boundary}--",
    ];

    private static readonly string?[] s_contentTypes =
    [
        $"multipart/form-data; boundary={Boundary}",
        $"multipart/form-data; boundary=\"{Boundary}\"",
        $"multipart/form-data; charset=utf-8; boundary={Boundary}",
        "multipart/form-data; boundary=",
        "multipart/form-data",
        "application/json",
        null,
    ];

    private static readonly byte[] s_palette = "-\r\n:;=\" \tmodelnamefiledata"u8.ToArray().Concat(new byte[] { 0x00, 0x7F, 0x80, 0xC3, 0xFF }).ToArray();

    [Fact]
    public void Peek_EveryTruncationOfValidForms_NeverThrowsAndOnlyReportsRealValues()
    {
        var failures = new List<string>();
        foreach (var seed in s_seeds)
        {
            var bytes = Encoding.UTF8.GetBytes(seed);
            for (var length = 0; length <= bytes.Length; length++)
            {
                Check(bytes[..length], s_contentTypes[0], failures);
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Peek_RandomByteFlipsInsertionsAndDeletions_NeverThrowsAndOnlyReportsRealValues()
    {
        var random = new Random(20_261_126);
        var failures = new List<string>();
        var found = 0;
        for (var i = 0; i < 5_000; i++)
        {
            var body = Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]).ToList();
            var mutated = ByteMutations.Apply(body, random.Next(1, 6), random, () => s_palette[random.Next(s_palette.Length)]);
            found += Check(mutated, s_contentTypes[random.Next(s_contentTypes.Length)], failures) ? 1 : 0;
        }

        failures.Should().BeEmpty();
        found.Should().BeGreaterThan(250, "the check above must not be vacuous: many mutated forms still name a model");
    }

    private static bool Check(byte[] body, string? contentType, List<string> failures)
    {
        var name = new char[ModelPeek.MaxNameChars];
        ModelPeekResult result;
        try
        {
            result = FormModelPeek.Peek(body, contentType, name);
        }
        catch (Exception ex)
        {
            failures.Add($"{ex.GetType().Name} on {Convert.ToBase64String(body)} ({contentType})");
            return false;
        }

        if (result.Status != PeekStatus.Found)
        {
            return false;
        }

        var value = body.AsSpan(result.TokenStart, result.TokenLength);
        var after = body.AsSpan(result.TokenStart + result.TokenLength);
        if (value.IsEmpty
            || new string(name, 0, result.NameLength) != Encoding.UTF8.GetString(value)
            || !(after.StartsWith(Encoding.ASCII.GetBytes("\r\n--" + Boundary)) || after.StartsWith(Encoding.ASCII.GetBytes("\n--" + Boundary))))
        {
            failures.Add($"bad slice {result} on {Convert.ToBase64String(body)}");
        }

        return true;
    }
}
