using System.Text;
using Gollamas.Bodies;
using Microsoft.Extensions.Primitives;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// The model field of multipart/form-data bodies, read as Go's ParseMultipartForm and
/// FormValue("model") read it in Ollama's /v1/audio/transcriptions, and only plain forms. Every
/// case is read twice, whole (<see cref="FormModelPeek"/>) and fed a byte at a time
/// (<see cref="FormModelScan"/>), with the same result.
/// </summary>
public sealed class FormModelScanTests
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
        { "--XyZ\nContent-Type: text/plain\n\nno disposition\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        // .NET's MultipartFormDataContent: a quoted boundary, filename* beside filename, a typed value part.
        { "--6f1c\nContent-Disposition: form-data; name=file; filename=a.wav; filename*=utf-8''a.wav\n\nRIFF\n--6f1c\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: form-data; name=model\n\nwhisper\n--6f1c--\n", "multipart/form-data; boundary=\"6f1c\"", "whisper" },
        { "--XyZ\nContent-Disposition: form-data ;name = \"model\"\t; x=\"a;b=c\"  \n\nwhisper\n--XyZ--  \nan epilogue --XyZ nobody reads\n", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ-- \t", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper --XyZ\n-XyZ\n--XyZ--\n", ContentType, "whisper --XyZ\r\n-XyZ" },
        { "--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\n\n\r\r\n-\r\n--\r\n--Xy\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "whisper" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nmodèle\n--XyZ--\n", ContentType, "modèle" },
    };

    [Theory]
    [MemberData(nameof(Found))]
    public void Scan_ModelField_FoundWithItsPlaceInTheBody(string body, string contentType, string model)
    {
        var bytes = Crlf(body);

        var (result, name) = Scan(bytes, contentType);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be(model);
        Encoding.UTF8.GetString(bytes, result.TokenStart, result.TokenLength).Should().Be(model, "the value's bytes are where a splice would go");
    }

    [Fact]
    public void Scan_BareLineFeedsThroughout_FoundAsGoReadsThem()
    {
        var body = Encoding.UTF8.GetBytes("--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n");

        var (result, name) = Scan(body, ContentType);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("whisper");
    }

    public static readonly TheoryData<string, string?, string> Refused = new()
    {
        // Body (\n stands for CRLF), Content-Type, the client's message.
        { "{\"model\":\"whisper\"}", "application/json", "failed to parse multipart form: request Content-Type isn't multipart/form-data" },
        { "--XyZ\n\nx\n--XyZ--\n", null, "failed to parse multipart form: request Content-Type isn't multipart/form-data" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data", "failed to parse multipart form: no multipart boundary param in Content-Type" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary=XyZ; boundary=XyZ", "gollamas: the Content-Type parameters must be plain name=value pairs (a token or a quoted string without backslashes), each name at most once and without '*'" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary*=utf-8''XyZ", "gollamas: the Content-Type parameters must be plain name=value pairs (a token or a quoted string without backslashes), each name at most once and without '*'" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary=\"X\\yZ\"", "gollamas: the Content-Type parameters must be plain name=value pairs (a token or a quoted string without backslashes), each name at most once and without '*'" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary=XyZ;", "gollamas: the Content-Type parameters must be plain name=value pairs (a token or a quoted string without backslashes), each name at most once and without '*'" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary=\"\"", "gollamas: the multipart boundary must be 1 to 70 of RFC 2046's boundary characters (letters, digits, '()+_,-./:=? and inner spaces)" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary=\"XyZ \"", "gollamas: the multipart boundary must be 1 to 70 of RFC 2046's boundary characters (letters, digits, '()+_,-./:=? and inner spaces)" },
        { "--XyZ\n\nx\n--XyZ--\n", "multipart/form-data; boundary=Xy#Z", "gollamas: the multipart boundary must be 1 to 70 of RFC 2046's boundary characters (letters, digits, '()+_,-./:=? and inner spaces)" },
        { "no delimiter at all", ContentType, "gollamas: the multipart form ends before its closing boundary line" },
        { "", ContentType, "gollamas: the multipart form ends before its closing boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper", ContentType, "gollamas: the multipart form ends before its closing boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\r", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--x\n", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ -- \n", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZx\nmore\n--XyZ--\n", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZ--\n", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZx\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n", ContentType, "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\n\n--XyZ\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's content starts with the multipart boundary" },
        { "--XyZ\nnot a header\n\nx\n--XyZ--\n", ContentType, "gollamas: a part header line must read 'Name: value', the name of token characters right before the colon" },
        { "--XyZ\n: form-data; name=\"model\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part header line must read 'Name: value', the name of token characters right before the colon" },
        { "--XyZ\nContent Disposition: form-data; name=\"model\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part header line must read 'Name: value', the name of token characters right before the colon" },
        { "--XyZ\n Content-Disposition: form-data; name=\"model\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part header line starts with white space (a folded or indented header)" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\nX: a\u0000b\n\nx\n--XyZ--\n", ContentType, "gollamas: a part header value holds a control character" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\nContent-Disposition: form-data; name=\"x\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part has more than one Content-Disposition header" },
        { "--XyZ\nContent-Disposition: form-data; NAME=\"model\"; Name=\"model\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\";\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once" },
        { "--XyZ\nContent-Disposition: form-data; name=\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once" },
        { "--XyZ\nContent-Disposition: form-data;\u00a0name=\"model\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once" },
        { "--XyZ\nContent-Disposition: form-data/x; name=\"model\"\n\nx\n--XyZ--\n", ContentType, "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once" },
        { "--XyZ\nContent-Disposition: form-data; name*0=model\n\nx\n--XyZ--\n", ContentType, "gollamas: RFC 2231 parameters (name*=) are not supported in a part's Content-Disposition, except filename* beside a name other than model" },
        { "--XyZ\nContent-Disposition: form-data; name=\"model\"\nContent-Transfer-Encoding: Quoted-Printable\n\nwhisper=3D\n--XyZ--\n", ContentType, "gollamas: quoted-printable parts are not supported" },
        { "--XyZ\nContent-Disposition: form-data; name=\"file\"\ncontent-transfer-encoding:quoted-printable\n\nRIFF\n--XyZ--\n", ContentType, "gollamas: quoted-printable parts are not supported" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Scan_FormGoRefusesOrMayReadOtherwise_RefusedWithASentence(string body, string? contentType, string message)
    {
        var (result, _) = Scan(Crlf(body), contentType);

        result.Status.Should().Be(PeekStatus.InvalidForm);
        result.Detail.Should().Be(message);
    }

    [Theory]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"model\"\r\n\nx\n--XyZ--\n")]
    [InlineData("--XyZ\r\nContent-Disposition: form-data; name=\"model\"\n\r\nx\r\n--XyZ--\r\n")]
    public void Scan_LineEndsOtherThanTheFirstBoundaryLines_Refused(string body)
    {
        var (result, _) = Scan(Encoding.UTF8.GetBytes(body), ContentType);

        result.Detail.Should().Be("gollamas: a part header line must end like the first boundary line (CRLF, or LF if that one ends in LF)");
    }

    [Theory]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\n\nRIFF\n--XyZ--\n")]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"model\"\n\n\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n")]
    [InlineData("--XyZ\nContent-Disposition: form-data; name=\"model\"; filename=\"m\"\n\nwhisper\n--XyZ--\n")]
    public void Scan_NoModelValueOrAnEmptyFirstOne_ModelMissing(string body)
    {
        var (result, _) = Scan(Crlf(body), ContentType);

        result.Status.Should().Be(PeekStatus.ModelMissing, "Go's FormValue gives the first value, empty or not");
    }

    [Fact]
    public void Scan_ModelLongerThanAnyName_TooLong()
    {
        var body = Crlf($"--XyZ\nContent-Disposition: form-data; name=\"model\"\n\n{new string('m', ModelPeek.MaxNameChars + 1)}\n--XyZ--\n");

        Scan(body, ContentType).Result.Status.Should().Be(PeekStatus.ModelTooLong);
    }

    [Fact]
    public void Scan_TwoContentTypeHeaders_Refused()
    {
        var body = Crlf("--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n");

        var result = FormModelPeek.Peek(body, new StringValues([ContentType, ContentType]), new char[ModelPeek.MaxNameChars]);

        result.Detail.Should().Be("gollamas: the request has more than one Content-Type header; send exactly one");
    }

    [Theory]
    [InlineData(4096, "Found")]
    [InlineData(4097, "InvalidForm")]
    public void Scan_PartHeaderLine_AtMost4096BytesWithItsLineEnd(int lineLength, string status)
    {
        var header = "X-Pad: " + new string('p', lineLength - "X-Pad: \r\n".Length);
        var body = Crlf($"--XyZ\nContent-Disposition: form-data; name=\"model\"\n{header}\n\nwhisper\n--XyZ--\n");

        var (result, _) = Scan(body, ContentType);

        result.Status.ToString().Should().Be(status);
        if (result.Status == PeekStatus.InvalidForm)
        {
            result.Detail.Should().Be("gollamas: a line of the multipart form's preamble or part headers is longer than 4096 bytes");
        }
    }

    [Theory]
    [InlineData(32, "Found")]
    [InlineData(33, "InvalidForm")]
    public void Scan_PartHeaders_AtMost32Lines(int lines, string status)
    {
        var headers = string.Concat(Enumerable.Repeat("X-Pad: p\n", lines - 1));
        var body = Crlf($"--XyZ\nContent-Disposition: form-data; name=\"model\"\n{headers}\nwhisper\n--XyZ--\n");

        Scan(body, ContentType).Result.Status.ToString().Should().Be(status);
    }

    [Theory]
    [InlineData(100, "Found")]
    [InlineData(101, "InvalidForm")]
    public void Scan_Form_AtMost100Parts(int parts, string status)
    {
        var others = string.Concat(Enumerable.Repeat("--XyZ\nContent-Disposition: form-data; name=\"x\"\n\nv\n", parts - 1));
        var body = Crlf($"{others}--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n");

        Scan(body, ContentType).Result.Status.ToString().Should().Be(status);
    }

    [Fact]
    public void Feed_LargeAudioPartInLargeChunks_ModelAfterItFoundAtItsOffset()
    {
        var head = Crlf("--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\n\n");
        var audio = new byte[8 * 1024 * 1024];
        new Random(7).NextBytes(audio);
        var tail = Crlf("\n--XyZ\nContent-Disposition: form-data; name=\"model\"\n\nwhisper\n--XyZ--\n");
        var body = head.Concat(audio).Concat(tail).ToArray();
        using var scan = new FormModelScan(ContentType);

        for (var at = 0; at < body.Length; at += 65_521)
        {
            scan.Feed(body.AsSpan(at, Math.Min(65_521, body.Length - at)));
        }

        var name = new char[ModelPeek.MaxNameChars];
        var result = scan.Complete(name);
        result.Status.Should().Be(PeekStatus.Found);
        new string(name, 0, result.NameLength).Should().Be("whisper");
        result.TokenStart.Should().Be(body.Length - "whisper\r\n--XyZ--\r\n".Length);
    }

    /// <summary>Reads the body whole and a byte at a time; both readings must agree.</summary>
    private static (ModelPeekResult Result, string Name) Scan(byte[] body, string? contentType)
    {
        var whole = new char[ModelPeek.MaxNameChars];
        var result = FormModelPeek.Peek(body, contentType, whole);

        var fed = new char[ModelPeek.MaxNameChars];
        ModelPeekResult byteAtATime;
        using (var scan = new FormModelScan(contentType))
        {
            foreach (var b in body)
            {
                scan.Feed([b]);
            }

            byteAtATime = scan.Complete(fed);
        }

        byteAtATime.Should().Be(result, "the reading must not depend on how the body is cut");
        new string(fed, 0, byteAtATime.NameLength).Should().Be(new string(whole, 0, result.NameLength));
        return (result, new string(whole, 0, result.NameLength));
    }

    private static byte[] Crlf(string text) => Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n", StringComparison.Ordinal));
}
