using System.Text;
using Gollamas.Forwarding;

namespace Gollamas.Tests.Forwarding;

/// <summary>
/// The model field of multipart/form-data bodies, read as Go's ParseMultipartForm and
/// FormValue("model") read it in Ollama's /v1/audio/transcriptions.
/// </summary>
public sealed class FormModelPeekTests
{
    private const string ContentType = "multipart/form-data; boundary=XyZ";

    public static readonly TheoryData<string, string, string> Found = new()
    {
        // Body (\n stands for CRLF unless the case says LF), Content-Type, expected model.
        { "--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\nContent-Type: audio/wav\n\nRIFF\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nllama3.2:latest\n--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\n\nRIFF\n--XyZ--\n", ContentType, "llama3.2:latest" },
        { "a preamble line\nand another\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        { "--XyZ  \ncontent-disposition: FORM-DATA; NAME=model\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        { "--a b\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--a b--\n", "Multipart/Form-Data; charset=utf-8; Boundary=\"a b\"", "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nfirst\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nsecond\n--XyZ--\n", ContentType, "first" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"; filename=\"\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"; filename=\"m.txt\"\n\nnot this\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nline one\nline two\n--XyZ--\n", ContentType, "line one\r\nline two" },
        { "--XyZ\nContent-Disposition: attachment; name=\"model\"\n\nnot a form field\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
    };

    [Theory]
    [MemberData(nameof(Found))]
    public void Peek_ModelField_FoundWithItsPlaceInTheBody(string body, string contentType, string model)
    {
        var bytes = Crlf(body);

        var (result, name) = Peek(bytes, contentType);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be(model);
        Encoding.UTF8.GetString(bytes, result.TokenStart, result.TokenLength).Should().Be(model, "the value's bytes are where a splice would go");
    }

    [Fact]
    public void Peek_BareLineFeeds_FoundAsGoReadsThem()
    {
        var body = Encoding.UTF8.GetBytes("--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n");

        var (result, name) = Peek(body, ContentType);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("whisper");
    }

    [Theory]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\n\nRIFF\n--XyZ--\n", ContentType, "ModelMissing", null)]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"model\"\n\n\n--XyZ--\n", ContentType, "ModelMissing", null)]
    [InlineData("--XyZ--\n", ContentType, "ModelMissing", null)]
    [InlineData("{\"model\":\"whisper\"}", "application/json", "InvalidForm", "request Content-Type isn't multipart/form-data")]
    [InlineData("--XyZ\n\nx\n--XyZ--\n", null, "InvalidForm", "request Content-Type isn't multipart/form-data")]
    [InlineData("--XyZ\n\nx\n--XyZ--\n", "multipart/form-data", "InvalidForm", "no multipart boundary param in Content-Type")]
    [InlineData("no delimiter at all", ContentType, "InvalidForm", "multipart: NextPart: EOF")]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper", ContentType, "InvalidForm", "multipart: NextPart: EOF")]
    [InlineData("--XyZ\nnot a header\n\nx\n--XyZ--\n", ContentType, "InvalidForm", "multipart: NextPart: malformed MIME header line: not a header")]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"model\"\nContent-Transfer-Encoding: quoted-printable\n\nwhisper=3D\n--XyZ--\n", ContentType, "InvalidForm", "gollamas: a quoted-printable model field is not supported")]
    public void Peek_NoModelOrAFormGoRefuses_SaysWhy(string body, string? contentType, string status, string? detail)
    {
        var (result, _) = Peek(Crlf(body), contentType);

        result.Status.ToString().Should().Be(status);
        result.Detail.Should().Be(detail);
    }

    [Fact]
    public void Peek_ModelLongerThanAnyName_TooLong()
    {
        var body = Crlf($"--XyZ\nContent-Disposition: form-data; name=\"model\"\n\n{new string('m', ModelPeek.MaxNameChars + 1)}\n--XyZ--\n");

        Peek(body, ContentType).Result.Status.Should().Be(PeekStatus.ModelTooLong);
    }

    private static (ModelPeekResult Result, string Name) Peek(byte[] body, string? contentType)
    {
        var buffer = new char[ModelPeek.MaxNameChars];
        var result = FormModelPeek.Peek(body, contentType, buffer);
        return (result, new string(buffer, 0, result.NameLength));
    }

    private static byte[] Crlf(string text) => Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n", StringComparison.Ordinal));
}
