using System.Text;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Transcription forms that a looser reading took for a llama3.2 request while Go's
/// ParseMultipartForm and FormValue("model") (Ollama) read nomic-embed-text, or nothing. Each is
/// refused now; the differential test runs them through Go as well.
/// </summary>
public static class MisreadForms
{
    public const string Boundary = "b0und";

    /// <summary>Shape name, every Content-Type header value, body (\n is CRLF), the refusal.</summary>
    private static readonly (string Name, string[] ContentTypes, string Body, string Refusal)[] s_shapes =
    [
        ("DuplicateNameParameter", Plain, Form("Content-Disposition: form-data; name=\"file\"; name=\"model\""),
            "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once"),
        ("Rfc2231Name", Plain, Form("Content-Disposition: form-data; name=\"model\"; name*=utf-8''language"),
            "gollamas: RFC 2231 parameters (name*=) are not supported in a part's Content-Disposition, except filename* beside a name other than model"),
        ("Rfc2231FileName", Plain, Form("Content-Disposition: form-data; name=\"model\"; filename*=utf-8''m.txt"),
            "gollamas: RFC 2231 parameters (name*=) are not supported in a part's Content-Disposition, except filename* beside a name other than model"),
        ("WhiteSpaceBeforeColon", Plain, Form("Content-Disposition : form-data; name=\"model\""),
            "gollamas: a part header line must read 'Name: value', the name of token characters right before the colon"),
        ("FoldedHeader", Plain, Form("Content-Type: text/plain\n\tContent-Disposition: form-data; name=\"model\""),
            "gollamas: a part header line starts with white space (a folded or indented header)"),
        ("DelimiterEndingCrCrLf", Plain, Form("Content-Disposition: form-data; name=\"model\"", firstDelimiterEnd: "\r\r\n"),
            "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line"),
        ("UnparseableParameter", Plain, Form("Content-Disposition: form-data; name=\"model\"; foo"),
            "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once"),
        ("EscapedQuoteInQuotedValue", Plain, Form("Content-Disposition: form-data; x=\"\\\"; name=model; y=\\\"\""),
            "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once"),
        ("QuotedBoundaryWithSemicolon", ["multipart/form-data; boundary=\"b0und;x\""],
            $"--{Boundary};x\nContent-Disposition: form-data; name=\"model\"\n\nnomic-embed-text\n--{Boundary};x--\n" + Form("Content-Disposition: form-data; name=\"model\"", secondModel: false),
            "gollamas: the multipart boundary must be 1 to 70 of RFC 2046's boundary characters (letters, digits, '()+_,-./:=? and inner spaces)"),
        // Kestrel joins the two values with a comma: a reading of the joined value took the boundary "b0und,multipart/form-data".
        ("TwoContentTypeHeaders", ["multipart/form-data; boundary=" + Boundary, "multipart/form-data; boundary=x"],
            $"--{Boundary},multipart/form-data\nContent-Disposition: form-data; name=\"model\"\n\nllama3.2\n--{Boundary},multipart/form-data--\n--{Boundary}\nContent-Disposition: form-data; name=\"model\"\n\nnomic-embed-text\n--{Boundary}--\n",
            "gollamas: the request has more than one Content-Type header; send exactly one"),
    ];

    private static string[] Plain => ["multipart/form-data; boundary=" + Boundary];

    /// <summary>The shape names, for a theory.</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (var shape in s_shapes)
            {
                names.Add(shape.Name);
            }

            return names;
        }
    }

    public static IEnumerable<(string Name, string[] ContentTypes, byte[] Body, string Refusal)> All =>
        s_shapes.Select(static s => (s.Name, s.ContentTypes, Crlf(s.Body), s.Refusal));

    public static (string[] ContentTypes, byte[] Body, string Refusal) Get(string name)
    {
        var shape = s_shapes.Single(s => s.Name == name);
        return (shape.ContentTypes, Crlf(shape.Body), shape.Refusal);
    }

    /// <summary>
    /// A form whose first part has <paramref name="headers"/> and the value llama3.2, followed by
    /// an audio file and (unless told otherwise) a plain model part holding nomic-embed-text.
    /// </summary>
    private static string Form(string headers, string firstDelimiterEnd = "\n", bool secondModel = true) =>
        $"--{Boundary}{firstDelimiterEnd}{headers}\n\nllama3.2\n"
        + $"--{Boundary}\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\nContent-Type: audio/wav\n\nRIFF\n"
        + (secondModel ? $"--{Boundary}\nContent-Disposition: form-data; name=\"model\"\n\nnomic-embed-text\n" : string.Empty)
        + $"--{Boundary}--\n";

    private static byte[] Crlf(string text) =>
        Encoding.UTF8.GetBytes(text.Replace("\r\r\n", "\u0001", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal).Replace("\u0001", "\r\r\n", StringComparison.Ordinal));
}
