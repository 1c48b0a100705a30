using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Gollamas.Bodies;

/// <summary>
/// One reading of a <c>multipart/form-data</c> body (OpenAI's audio endpoint), fed in order in
/// chunks of any size, that finds the <c>model</c> field as Ollama reads it: Go's
/// <c>Request.ParseMultipartForm(25 &lt;&lt; 20)</c>, then <c>FormValue("model")</c>, the value of
/// the first part with Content-Disposition <c>form-data</c>, <c>name="model"</c> and no file name
/// (middleware/openai.go, TranscriptionMiddleware).
/// </summary>
/// <remarks>
/// <para>
/// Fail closed. Go's readers (mime/multipart, net/textproto, mime.ParseMediaType) accept many
/// spellings: folded and indented header lines, white space before a header's colon (kept in the
/// key, so the header is not found), RFC 2231 <c>name*=</c> parameters that override
/// <c>name=</c>, duplicate parameters (the whole Content-Disposition then reads as empty),
/// backslash escapes in quoted values, Unicode spaces between parameters, preamble lines that look
/// like boundaries. A reading that differs from Go's in any of them routes by one model while
/// Ollama serves another. So only the plain form every client sends is read; everything else is
/// refused, whether Go would read it or not:
/// </para>
/// <list type="bullet">
/// <item>exactly one Content-Type, <c>multipart/form-data</c> with plain parameters (see
/// <see cref="MediaParameters"/>) and a boundary of RFC 2046's characters;</item>
/// <item>boundary lines <c>--boundary</c>, blanks, and the line end of the first one (CRLF, or LF
/// as Go also accepts); the closing one <c>--boundary--</c>; a line of the preamble may not start
/// with the boundary unless it is the first boundary line;</item>
/// <item>part header lines <c>Name: value</c>: a name of token characters right before the colon,
/// no line starting with white space, no control character, each line ending like the boundary
/// lines; one Content-Disposition at most, with plain parameters; <c>filename*</c> only beside a
/// name other than <c>model</c> (.NET's MultipartFormDataContent writes it for every file); no
/// quoted-printable part (Go decodes it);</item>
/// <item>part content that neither starts with <c>--boundary</c> nor holds the line end and
/// <c>--boundary</c> except where the next boundary line begins.</item>
/// </list>
/// <para>
/// The whole body is read to its closing boundary, since Go's parse fails on an error anywhere;
/// what follows that line Go never reads. The limits here (<see cref="MaxParts"/>,
/// <see cref="MaxHeaderLines"/>) are below Go's (1000 parts, 10000 headers); Go's memory limit
/// (10 MB of values beside 25 MB of files) is not mirrored: past it Ollama answers 400 itself and
/// serves no model. Memory is bounded whatever the body: a line of at most
/// <see cref="MaxLineBytes"/>, the first bytes of the model value, nothing of the other content.
/// </para>
/// <para>
/// The subset is the same in every Go release since 1.19: later ones (Ollama builds with 1.26)
/// only refuse more header lines (control bytes, non-token names), which are refused here too.
/// FormModelDifferentialTests checks it against the Go on the machine.
/// </para>
/// </remarks>
internal sealed class FormModelScan : IDisposable
{
    /// <summary>The longest preamble, boundary or part header line, its line end included (Go reads preamble and boundary lines through a 4096-byte buffer).</summary>
    public const int MaxLineBytes = 4096;

    public const int MaxParts = 100;

    public const int MaxHeaderLines = 32;

    private const int MaxBoundaryLength = 70;

    /// <summary>Raw bytes of the longest model value worth decoding: a name char is at most 4 UTF-8 bytes.</summary>
    private const int MaxValueBytes = ModelPeek.MaxNameChars * 4;

    // Ollama's wording where Go refuses the form too (middleware/openai.go prefixes Go's error).
    private const string NotMultipart = "failed to parse multipart form: request Content-Type isn't multipart/form-data";
    private const string NoBoundary = "failed to parse multipart form: no multipart boundary param in Content-Type";

    private const string TwoContentTypes = "gollamas: the request has more than one Content-Type header; send exactly one";
    private const string BadContentType = "gollamas: the Content-Type parameters must be plain name=value pairs (a token or a quoted string without backslashes), each name at most once and without '*'";
    private const string BadBoundary = "gollamas: the multipart boundary must be 1 to 70 of RFC 2046's boundary characters (letters, digits, '()+_,-./:=? and inner spaces)";
    private const string EndsEarly = "gollamas: the multipart form ends before its closing boundary line";
    private const string BadBoundaryLine = "gollamas: a line starting with the multipart boundary must hold only the boundary (with '--' after it on the closing line), optional blanks and the line end of the first boundary line";
    private const string BoundaryStartsContent = "gollamas: a part's content starts with the multipart boundary";
    private const string LineTooLong = "gollamas: a line of the multipart form's preamble or part headers is longer than 4096 bytes";
    private const string TooManyParts = "gollamas: the multipart form has more than 100 parts";
    private const string TooManyHeaders = "gollamas: a part of the multipart form has more than 32 header lines";
    private const string BadLineEnd = "gollamas: a part header line must end like the first boundary line (CRLF, or LF if that one ends in LF)";
    private const string IndentedHeader = "gollamas: a part header line starts with white space (a folded or indented header)";
    private const string BadHeaderName = "gollamas: a part header line must read 'Name: value', the name of token characters right before the colon";
    private const string ControlInHeader = "gollamas: a part header value holds a control character";
    private const string TwoDispositions = "gollamas: a part has more than one Content-Disposition header";
    private const string BadDisposition = "gollamas: a part's Content-Disposition must be a type and plain name=value parameters (a token or a quoted string without backslashes), each name at most once";
    private const string ExtendedParameter = "gollamas: RFC 2231 parameters (name*=) are not supported in a part's Content-Disposition, except filename* beside a name other than model";
    private const string QuotedPrintable = "gollamas: quoted-printable parts are not supported";

    private static readonly SearchValues<byte> s_boundaryChars = SearchValues.Create("'()+_,-./:=? 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>What a Content-Type may hold: printable ASCII and HTAB.</summary>
    private static readonly SearchValues<char> s_printableOrTab = SearchValues.Create("\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>Control bytes a header value may not hold: all but HTAB (RFC 9110 field-value; Go since 1.20 refuses them too).</summary>
    private static readonly SearchValues<byte> s_controls = SearchValues.Create(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F]);

    // "\r\n--boundary": what ends a part's content, its first byte dropped once the first boundary line ends in LF.
    private readonly byte[] _delimiter = [];
    private int _newLineLength = 2;

    // Rented on first need: [0, MaxLineBytes) holds bytes fed but not yet read (a cut line, or
    // what may be the start of a delimiter); the rest holds the first bytes of the model value.
    private byte[]? _buffer;
    private int _carried;

    // Body offset of the first byte not yet read.
    private int _read;

    private Phase _phase;
    private string? _problem;

    private int _parts;
    private int _headerLines;
    private bool _sawDisposition;
    private bool _partIsModelValue;
    private bool _contentChecked;
    private bool _capturing;

    private bool _modelFound;
    private int _modelStart;
    private int _modelLength;

    /// <param name="contentType">Every value of the request's Content-Type header.</param>
    public FormModelScan(StringValues contentType)
    {
        if (!TryReadBoundary(contentType, out var boundary, out _problem))
        {
            return;
        }

        _delimiter = new byte[4 + boundary.Length];
        "\r\n--"u8.CopyTo(_delimiter);
        boundary.CopyTo(_delimiter.AsSpan(4));
    }

    private enum Phase
    {
        /// <summary>Before the first boundary line.</summary>
        Preamble,

        /// <summary>Reading a part's header lines.</summary>
        Headers,

        /// <summary>Reading a part's content, up to the next delimiter.</summary>
        Content,

        /// <summary>At a boundary line after a part: the next part or the end.</summary>
        BoundaryLine,

        /// <summary>After the closing boundary line: the rest is never read (nor by Go).</summary>
        Done,
    }

    /// <summary>"--boundary".</summary>
    private ReadOnlySpan<byte> DashBoundary => _delimiter.AsSpan(2);

    /// <summary>The line end and "--boundary".</summary>
    private ReadOnlySpan<byte> NewLineDashBoundary => _delimiter.AsSpan(2 - _newLineLength);

    private ReadOnlySpan<byte> NewLine => _delimiter.AsSpan(2 - _newLineLength, _newLineLength);

    /// <summary>Reads the next bytes of the body.</summary>
    public void Feed(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty && _problem is null && _phase != Phase.Done)
        {
            if (_carried == 0)
            {
                var read = Read(chunk, final: false);
                Carry(chunk[read..]);
                return;
            }

            // Complete what was carried with the chunk's first bytes, then go on in the chunk itself.
            var buffer = Buffer();
            var carried = _carried;
            var take = Math.Min(chunk.Length, MaxLineBytes - carried);
            chunk[..take].CopyTo(buffer.AsSpan(carried));
            var used = Read(buffer.AsSpan(0, carried + take), final: false);
            if (used >= carried)
            {
                _carried = 0;
                chunk = chunk[(used - carried)..];
                continue;
            }

            buffer.AsSpan(used, carried + take - used).CopyTo(buffer);
            _carried = carried + take - used;
            chunk = chunk[take..];
        }
    }

    /// <summary>
    /// Ends the body and says what it held. The model's value is written to
    /// <paramref name="nameBuffer"/>, which must hold <see cref="ModelPeek.MaxNameChars"/> chars;
    /// its bytes are at <see cref="ModelPeekResult.TokenStart"/> in the body (where an alias is spliced).
    /// A form this reading refuses is <see cref="PeekStatus.InvalidForm"/>, the detail being the
    /// whole message for the client.
    /// </summary>
    public ModelPeekResult Complete(Span<char> nameBuffer)
    {
        if (_problem is null && _phase != Phase.Done)
        {
            Read(_carried == 0 ? default : _buffer.AsSpan(0, _carried), final: true);
            _carried = 0;
        }

        if (_problem is not null)
        {
            return ModelPeekResult.Fail(PeekStatus.InvalidForm, _problem);
        }

        if (!_modelFound || _modelLength == 0)
        {
            // Go's FormValue takes the first value only: an empty one is no model, whatever follows.
            return ModelPeekResult.Fail(PeekStatus.ModelMissing);
        }

        if (_modelLength > MaxValueBytes)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelTooLong);
        }

        var value = _buffer.AsSpan(MaxLineBytes, _modelLength);
        if (Encoding.UTF8.GetCharCount(value) > nameBuffer.Length)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelTooLong);
        }

        // Go keeps invalid UTF-8 as it is; the lookup then simply finds no such model.
        var written = Encoding.UTF8.GetChars(value, nameBuffer);
        return new ModelPeekResult(PeekStatus.Found, _modelStart, _modelLength, written);
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private byte[] Buffer() => _buffer ??= ArrayPool<byte>.Shared.Rent(MaxLineBytes + MaxValueBytes);

    private void Carry(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty || _problem is not null || _phase == Phase.Done)
        {
            return;
        }

        // Read leaves at most a line shorter than MaxLineBytes, or less than a delimiter.
        rest.CopyTo(Buffer());
        _carried = rest.Length;
    }

    /// <summary>
    /// Reads what <paramref name="data"/> (the body from offset <see cref="_read"/>) completes and
    /// returns how many bytes that was; the rest waits for more, unless <paramref name="final"/>.
    /// </summary>
    private int Read(ReadOnlySpan<byte> data, bool final)
    {
        var at = 0;
        while (_problem is null)
        {
            if (_phase == Phase.Done)
            {
                at = data.Length;
                break;
            }

            if (_phase == Phase.Content)
            {
                if (!ReadContent(data, ref at, final))
                {
                    break;
                }

                continue;
            }

            var rest = data[at..];
            var lineEnd = rest[..Math.Min(rest.Length, MaxLineBytes)].IndexOf((byte)'\n');
            if (lineEnd < 0)
            {
                if (rest.Length >= MaxLineBytes)
                {
                    _problem = LineTooLong;
                }
                else if (final)
                {
                    LastLine(rest);
                    at = data.Length;
                }

                break;
            }

            var line = rest[..(lineEnd + 1)];
            at += line.Length;
            switch (_phase)
            {
                case Phase.Preamble:
                    PreambleLine(line);
                    break;
                case Phase.BoundaryLine:
                    BoundaryLine(line);
                    break;
                default:
                    HeaderLine(line, _read + at);
                    break;
            }
        }

        _read += at;
        return at;
    }

    /// <summary>
    /// Go skips the lines before the first boundary line, which sets the line end: CRLF, or LF
    /// (mime/multipart isBoundaryDelimiterLine). A skipped line that starts with the boundary
    /// is refused rather than skipped.
    /// </summary>
    private void PreambleLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith(DashBoundary))
        {
            return;
        }

        var rest = line[DashBoundary.Length..].TrimStart(" \t"u8);
        if (rest.SequenceEqual("\n"u8))
        {
            _newLineLength = 1;
        }
        else if (!rest.SequenceEqual("\r\n"u8))
        {
            _problem = BadBoundaryLine;
            return;
        }

        StartPart();
    }

    /// <summary>A line that starts with "--boundary", right after a part's content: the next part, or the end.</summary>
    private void BoundaryLine(ReadOnlySpan<byte> line)
    {
        var rest = line[DashBoundary.Length..];
        if (rest.StartsWith("--"u8))
        {
            if (rest[2..].TrimStart(" \t"u8).SequenceEqual(NewLine))
            {
                _phase = Phase.Done;
            }
            else
            {
                _problem = BadBoundaryLine;
            }

            return;
        }

        if (rest.TrimStart(" \t"u8).SequenceEqual(NewLine))
        {
            StartPart();
        }
        else
        {
            _problem = BadBoundaryLine;
        }
    }

    /// <summary>The body ended without a line end: only a closing boundary line may (Go's isFinalBoundary at EOF).</summary>
    private void LastLine(ReadOnlySpan<byte> rest)
    {
        if (_phase == Phase.BoundaryLine)
        {
            var after = rest[DashBoundary.Length..];
            if (after.StartsWith("--"u8) && after[2..].TrimStart(" \t"u8).IsEmpty)
            {
                _phase = Phase.Done;
                return;
            }
        }

        _problem = _phase == Phase.BoundaryLine ? BadBoundaryLine : EndsEarly;
    }

    private void StartPart()
    {
        if (++_parts > MaxParts)
        {
            _problem = TooManyParts;
            return;
        }

        _headerLines = 0;
        _sawDisposition = false;
        _partIsModelValue = false;
        _phase = Phase.Headers;
    }

    /// <summary>One header line of a part; the empty one ends them, its content starting at <paramref name="next"/>.</summary>
    private void HeaderLine(ReadOnlySpan<byte> line, int next)
    {
        var crlf = line.Length >= 2 && line[^2] == (byte)'\r';
        if (crlf != (_newLineLength == 2))
        {
            _problem = BadLineEnd;
            return;
        }

        var text = line[..^_newLineLength];
        if (text.IsEmpty)
        {
            StartContent(next);
            return;
        }

        if (++_headerLines > MaxHeaderLines)
        {
            _problem = TooManyHeaders;
            return;
        }

        if (text[0] is (byte)' ' or (byte)'\t')
        {
            // textproto joins it to the line before (obs-fold), or refuses it as the first.
            _problem = IndentedHeader;
            return;
        }

        // textproto keys a name with a space before the colon as it is, so Header.Get misses it.
        var colon = text.IndexOf((byte)':');
        if (colon <= 0 || text[..colon].ContainsAnyExcept(MediaParameters.TokenChars))
        {
            _problem = BadHeaderName;
            return;
        }

        var name = text[..colon];
        var value = text[(colon + 1)..];
        if (value.ContainsAny(s_controls))
        {
            _problem = ControlInHeader;
            return;
        }

        value = value.Trim(" \t"u8);
        if (Ascii.EqualsIgnoreCase(name, "Content-Disposition"u8))
        {
            if (_sawDisposition)
            {
                _problem = TwoDispositions;
                return;
            }

            _sawDisposition = true;
            ReadDisposition(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Content-Transfer-Encoding"u8) && Ascii.EqualsIgnoreCase(value, "quoted-printable"u8))
        {
            // Go decodes such a part; its raw bytes here would be another value.
            _problem = QuotedPrintable;
        }
    }

    /// <summary>
    /// A part's Content-Disposition: whether the part is a value of the model field, as Go's
    /// Part.FormName and Part.FileName read it (a part without the header or of another type is
    /// skipped by Go, and so here).
    /// </summary>
    private void ReadDisposition(ReadOnlySpan<byte> value)
    {
        Span<MediaParameters.Parameter> parameters = stackalloc MediaParameters.Parameter[MediaParameters.MaxCount];
        if (!MediaParameters.TryRead(value, allowSubtype: false, out var type, parameters, out var count))
        {
            _problem = BadDisposition;
            return;
        }

        var isModel = false;
        var isFile = false;
        var extended = false;
        foreach (var parameter in parameters[..count])
        {
            var key = value[parameter.Key];
            if (key.Contains((byte)'*'))
            {
                // mime.ParseMediaType puts RFC 2231 values over the plain ones: filename* decides
                // whether a part is a file, name* (or name*0...) what it is called.
                if (!Ascii.EqualsIgnoreCase(key, "filename*"u8))
                {
                    _problem = ExtendedParameter;
                    return;
                }

                extended = true;
            }
            else if (Ascii.EqualsIgnoreCase(key, "name"u8))
            {
                isModel = value[parameter.Value].SequenceEqual("model"u8);
            }
            else if (Ascii.EqualsIgnoreCase(key, "filename"u8))
            {
                isFile = !value[parameter.Value].IsEmpty;
            }
        }

        if (isModel && extended)
        {
            _problem = ExtendedParameter;
            return;
        }

        _partIsModelValue = isModel && !isFile && Ascii.EqualsIgnoreCase(value[type], "form-data"u8);
    }

    private void StartContent(int start)
    {
        if (_partIsModelValue && !_modelFound)
        {
            _modelFound = true;
            _capturing = true;
            _modelStart = start;
        }

        _contentChecked = false;
        _phase = Phase.Content;
    }

    /// <summary>
    /// Reads a part's content up to the line end and "--boundary" that end it (Go's
    /// scanUntilBoundary). Returns false when the rest of <paramref name="data"/> may be the start
    /// of that delimiter and must wait for more bytes.
    /// </summary>
    private bool ReadContent(ReadOnlySpan<byte> data, ref int at, bool final)
    {
        var rest = data[at..];
        if (!_contentChecked)
        {
            // Go takes "--boundary" right at the start as the end of an empty part (or, followed
            // by anything else, as content): refused either way.
            if (!final && rest.Length < DashBoundary.Length && DashBoundary.StartsWith(rest))
            {
                return false;
            }

            if (rest.StartsWith(DashBoundary))
            {
                _problem = BoundaryStartsContent;
                return true;
            }

            _contentChecked = true;
        }

        var delimiter = NewLineDashBoundary;
        var end = rest.IndexOf(delimiter);
        if (end >= 0)
        {
            // Whatever follows must make a boundary line: Go reads "--boundaryX" as content, this refuses it.
            TakeContent(rest[..end]);
            at += end + _newLineLength;
            _capturing = false;
            _phase = Phase.BoundaryLine;
            return true;
        }

        if (final)
        {
            _problem = EndsEarly;
            return true;
        }

        // Keep what may be the delimiter's start: the delimiter holds its first byte only once.
        var keep = 0;
        var tail = rest[Math.Max(0, rest.Length - delimiter.Length + 1)..];
        var last = tail.LastIndexOf(delimiter[0]);
        if (last >= 0 && delimiter.StartsWith(tail[last..]))
        {
            keep = tail.Length - last;
        }

        TakeContent(rest[..^keep]);
        at += rest.Length - keep;
        return false;
    }

    private void TakeContent(ReadOnlySpan<byte> content)
    {
        if (!_capturing || content.IsEmpty)
        {
            return;
        }

        var room = MaxValueBytes - _modelLength;
        if (room > 0)
        {
            content[..Math.Min(room, content.Length)].CopyTo(Buffer().AsSpan(MaxLineBytes + _modelLength));
        }

        _modelLength += content.Length;
    }

    /// <summary>The request's boundary, from its one Content-Type header.</summary>
    private static bool TryReadBoundary(StringValues contentType, out byte[] boundary, out string? problem)
    {
        boundary = [];
        if (contentType.Count > 1)
        {
            // Go reads the first; Kestrel joins them with a comma.
            problem = TwoContentTypes;
            return false;
        }

        var text = contentType.Count == 0 ? null : contentType[0];
        if (string.IsNullOrEmpty(text))
        {
            problem = NotMultipart;
            return false;
        }

        Span<byte> bytes = stackalloc byte[1024];
        if (text.Length > bytes.Length || text.AsSpan().ContainsAnyExcept(s_printableOrTab))
        {
            problem = BadContentType;
            return false;
        }

        bytes = bytes[..Encoding.ASCII.GetBytes(text, bytes)].Trim(" \t"u8);
        var typeEnd = bytes.IndexOfAny(" \t;"u8);
        if (!Ascii.EqualsIgnoreCase(typeEnd < 0 ? bytes : bytes[..typeEnd], "multipart/form-data"u8))
        {
            problem = NotMultipart;
            return false;
        }

        Span<MediaParameters.Parameter> parameters = stackalloc MediaParameters.Parameter[MediaParameters.MaxCount];
        if (!MediaParameters.TryRead(bytes, allowSubtype: true, out _, parameters, out var count))
        {
            problem = BadContentType;
            return false;
        }

        scoped ReadOnlySpan<byte> found = default;
        var hasBoundary = false;
        foreach (var parameter in parameters[..count])
        {
            var key = bytes[parameter.Key];
            if (key.Contains((byte)'*'))
            {
                problem = BadContentType;
                return false;
            }

            if (Ascii.EqualsIgnoreCase(key, "boundary"u8))
            {
                found = bytes[parameter.Value];
                hasBoundary = true;
            }
        }

        if (!hasBoundary)
        {
            problem = NoBoundary;
            return false;
        }

        if (found.Length is 0 or > MaxBoundaryLength || found.ContainsAnyExcept(s_boundaryChars) || found[^1] == (byte)' ')
        {
            problem = BadBoundary;
            return false;
        }

        boundary = found.ToArray();
        problem = null;
        return true;
    }
}
