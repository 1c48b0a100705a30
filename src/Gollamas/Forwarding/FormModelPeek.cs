using System.Text;

namespace Gollamas.Forwarding;

/// <summary>
/// Finds the <c>model</c> field of a <c>multipart/form-data</c> body (OpenAI's audio endpoint) as
/// Go's <c>Request.ParseMultipartForm</c> and <c>FormValue("model")</c> read it in Ollama: the
/// boundary from the Content-Type, a preamble skipped, CRLF or bare LF line ends (whichever the
/// first delimiter uses), the first part whose Content-Disposition is <c>form-data</c> with
/// <c>name="model"</c> and no file name. Its raw bytes are the value, up to the next delimiter.
/// Nothing else in the body (the audio) is read.
/// </summary>
internal static class FormModelPeek
{
    /// <summary>
    /// Scans <paramref name="body"/>; the value is written to <paramref name="nameBuffer"/>, which
    /// must hold <see cref="ModelPeek.MaxNameChars"/> chars. A body Go would refuse is
    /// <see cref="PeekStatus.InvalidForm"/>, with Go's reason as the detail.
    /// </summary>
    public static ModelPeekResult Peek(ReadOnlySpan<byte> body, string? contentType, Span<char> nameBuffer)
    {
        if (!TryGetBoundary(contentType, out var boundary, out var problem))
        {
            return ModelPeekResult.Fail(PeekStatus.InvalidForm, problem);
        }

        Span<byte> dashBoundary = stackalloc byte[boundary.Length + 2];
        "--"u8.CopyTo(dashBoundary);
        Encoding.Latin1.GetBytes(boundary, dashBoundary[2..]);

        // The first delimiter line: "--boundary", optional transport padding, a line end.
        var at = 0;
        ReadOnlySpan<byte> newLine;
        while (true)
        {
            var lineEnd = body[at..].IndexOf((byte)'\n');
            if (lineEnd < 0)
            {
                return ModelPeekResult.Fail(PeekStatus.InvalidForm, "multipart: NextPart: EOF");
            }

            var line = body.Slice(at, lineEnd + 1);
            at += lineEnd + 1;
            if (IsDelimiterLine(line, dashBoundary, out var isLast))
            {
                if (isLast)
                {
                    return ModelPeekResult.Fail(PeekStatus.ModelMissing);
                }

                newLine = line.EndsWith("\r\n"u8) ? "\r\n"u8 : "\n"u8;
                break;
            }
        }

        // Each part: header lines up to an empty line, then content up to newline + "--boundary".
        Span<byte> delimiter = stackalloc byte[newLine.Length + dashBoundary.Length];
        newLine.CopyTo(delimiter);
        dashBoundary.CopyTo(delimiter[newLine.Length..]);
        while (true)
        {
            if (!TryReadHeaders(body, ref at, out var isModelValue, out var quotedPrintable, out problem))
            {
                return ModelPeekResult.Fail(PeekStatus.InvalidForm, problem);
            }

            if (isModelValue && quotedPrintable)
            {
                // Go decodes quoted-printable parts; the raw bytes here would be another name.
                return ModelPeekResult.Fail(PeekStatus.InvalidForm, "gollamas: a quoted-printable model field is not supported");
            }

            var contentLength = body[at..].IndexOf(delimiter);
            if (contentLength < 0)
            {
                return ModelPeekResult.Fail(PeekStatus.InvalidForm, "multipart: NextPart: EOF");
            }

            if (isModelValue)
            {
                return Found(body, at, contentLength, nameBuffer);
            }

            at += contentLength + delimiter.Length;
            var rest = body[at..];
            if (rest.StartsWith("--"u8))
            {
                return ModelPeekResult.Fail(PeekStatus.ModelMissing);
            }

            var lineEnd = rest.IndexOf((byte)'\n');
            if (lineEnd < 0 || !rest[..lineEnd].TrimEnd(" \t\r"u8).IsEmpty)
            {
                return ModelPeekResult.Fail(PeekStatus.InvalidForm, "multipart: NextPart: EOF");
            }

            at += lineEnd + 1;
        }
    }

    private static ModelPeekResult Found(ReadOnlySpan<byte> body, int start, int length, Span<char> nameBuffer)
    {
        if (length == 0)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelMissing);
        }

        var value = body.Slice(start, length);
        if (value.Length > ModelPeek.MaxNameChars * 4 || Encoding.UTF8.GetCharCount(value) > nameBuffer.Length)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelTooLong);
        }

        // Go keeps invalid UTF-8 as it is; the lookup then simply finds no such model.
        var written = Encoding.UTF8.GetChars(value, nameBuffer);
        return new ModelPeekResult(PeekStatus.Found, start, length, written);
    }

    /// <summary>
    /// Reads one part's header block: whether the part is the model field's value (by its first
    /// Content-Disposition, as Go's header lookup takes the first), and whether it is quoted-printable.
    /// </summary>
    private static bool TryReadHeaders(ReadOnlySpan<byte> body, ref int at, out bool isModelValue, out bool quotedPrintable, out string? problem)
    {
        isModelValue = false;
        quotedPrintable = false;
        problem = null;
        var sawDisposition = false;
        while (true)
        {
            var lineEnd = body[at..].IndexOf((byte)'\n');
            if (lineEnd < 0)
            {
                problem = "multipart: NextPart: EOF";
                return false;
            }

            var line = body.Slice(at, lineEnd).TrimEnd((byte)'\r');
            at += lineEnd + 1;
            if (line.IsEmpty)
            {
                return true;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                problem = $"multipart: NextPart: malformed MIME header line: {Encoding.Latin1.GetString(line)}";
                return false;
            }

            var name = line[..colon].Trim(" \t"u8);
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Content-Disposition"u8) && !sawDisposition)
            {
                sawDisposition = true;
                isModelValue = IsModelValue(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Transfer-Encoding"u8))
            {
                quotedPrintable = Ascii.EqualsIgnoreCase(value, "quoted-printable"u8);
            }
        }
    }

    /// <summary>Content-Disposition <c>form-data; name="model"</c> without a (non-empty) file name.</summary>
    private static bool IsModelValue(ReadOnlySpan<byte> disposition)
    {
        var semicolon = disposition.IndexOf((byte)';');
        var type = (semicolon < 0 ? disposition : disposition[..semicolon]).Trim(" \t"u8);
        if (!Ascii.EqualsIgnoreCase(type, "form-data"u8) || semicolon < 0)
        {
            return false;
        }

        var isModel = false;
        var parameters = disposition[(semicolon + 1)..];
        while (!parameters.IsEmpty)
        {
            parameters = parameters.TrimStart(" \t;"u8);
            var equals = parameters.IndexOf((byte)'=');
            if (equals <= 0)
            {
                break;
            }

            var key = parameters[..equals].Trim(" \t"u8);
            parameters = parameters[(equals + 1)..].TrimStart(" \t"u8);
            ReadOnlySpan<byte> value;
            if (!parameters.IsEmpty && parameters[0] == (byte)'"')
            {
                var close = parameters[1..].IndexOf((byte)'"');
                if (close < 0)
                {
                    return false;
                }

                value = parameters.Slice(1, close);
                parameters = parameters[(close + 2)..];
            }
            else
            {
                var end = parameters.IndexOfAny(" \t;"u8);
                value = end < 0 ? parameters : parameters[..end];
                parameters = end < 0 ? default : parameters[end..];
            }

            if (Ascii.EqualsIgnoreCase(key, "name"u8))
            {
                isModel = value.SequenceEqual("model"u8);
            }
            else if (Ascii.EqualsIgnoreCase(key, "filename"u8) && !value.IsEmpty)
            {
                return false;
            }
        }

        return isModel;
    }

    private static bool IsDelimiterLine(ReadOnlySpan<byte> line, ReadOnlySpan<byte> dashBoundary, out bool isLast)
    {
        isLast = false;
        if (!line.StartsWith(dashBoundary))
        {
            return false;
        }

        var rest = line[dashBoundary.Length..];
        if (rest.StartsWith("--"u8))
        {
            isLast = true;
            rest = rest[2..];
        }

        return rest.TrimEnd(" \t\r\n"u8).IsEmpty;
    }

    /// <summary>The boundary parameter of a multipart/form-data Content-Type, as Go's mime.ParseMediaType reads it.</summary>
    private static bool TryGetBoundary(string? contentType, out string boundary, out string? problem)
    {
        boundary = string.Empty;
        var parts = (contentType ?? string.Empty).Split(';', StringSplitOptions.TrimEntries);
        if (!string.Equals(parts[0], "multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            problem = "request Content-Type isn't multipart/form-data";
            return false;
        }

        foreach (var parameter in parts.AsSpan(1))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && parameter[..equals].Trim().Equals("boundary", StringComparison.OrdinalIgnoreCase))
            {
                boundary = parameter[(equals + 1)..].Trim().Trim('"');
                break;
            }
        }

        if (boundary.Length is 0 or > 70 || !Ascii.IsValid(boundary))
        {
            problem = "no multipart boundary param in Content-Type";
            return false;
        }

        problem = null;
        return true;
    }
}
