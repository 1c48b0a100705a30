using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Gollamas.Connections;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Connections;

/// <summary>
/// Feeds <see cref="ResponseHeadParser"/> and <see cref="ChunkedDecoder"/> every truncation and thousands of
/// seeded mutations of valid upstream responses, each delivered in random pieces and drained into random-sized
/// buffers as a connection does, and checks every outcome against an independent reading of the same bytes
/// (<see cref="Reference"/>: strings, regular expressions and index arithmetic over the whole response, RFC 9112
/// §4-§7 read plainly). Also: no exception but <see cref="UpstreamProtocolException"/>, no loop without progress.
/// </summary>
/// <remarks>
/// Rules of the proxy's that the reference states as it does, beyond the RFC's grammar: the reason phrase is not
/// read; field values hold only tab, space and visible ASCII (Kestrel writes them back out); Content-Length is 1
/// to 18 digits, repeated only with the same value; the final transfer coding is the last comma-separated element
/// of the last Transfer-Encoding field, even an empty one; chunk sizes are 1 to 15 hex digits, with tabs or spaces
/// only before an extension or the line's end; chunk extensions and trailer fields are not read; a size or trailer
/// line holds at most 4096 bytes and a head at most 65536, whether or not the end has arrived; at most ten interim
/// responses.
/// </remarks>
public sealed class UpstreamResponseFuzzTests
{
    private static readonly string[] s_seeds =
    [
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nDate: Tue, 03 Dec 2026 09:00:00 GMT\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "1e\r\n{\"response\":\"a\",\"done\":false}\n\r\n1D;ext=\"x;y\"\r\n{\"response\":\"b\",\"done\":true}\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 25\r\n\r\n{\"model\":\"llama3.2\",\"x\":1}",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 16\r\nContent-Length: 16\r\n\r\n{\"error\":\"nope\"}",
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the server closes",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n" +
            "A \t;a=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray",
        "HTTP/1.1 204 No Content\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray",
        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ];

    private static readonly byte[] s_palette =
        [.. "\r\n\r\n:;, \t0123456789aAfFxX-+=\"/.HTTPchunkedclosekeep-aliveContent-LengthTransfer-EncodingConnection"u8,
         0x00, 0x01, 0x7F, 0x80, 0xC3, 0xFF];

    [Fact]
    public void Read_EveryTruncationOfValidResponses_AgreesWithTheReference()
    {
        var random = new Random(20_261_203);
        var failures = new List<string>();

        foreach (var seed in s_seeds)
        {
            var bytes = Encoding.ASCII.GetBytes(seed);
            for (var length = 0; length <= bytes.Length; length++)
            {
                foreach (var isHead in (bool[])[false, true])
                {
                    Check(bytes.AsSpan(0, length).ToArray(), isHead, random, failures);
                }
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Read_RandomByteFlipsInsertionsAndDeletions_AgreesWithTheReference()
    {
        var random = new Random(9_112);
        var failures = new List<string>();

        for (var i = 0; i < 6_000; i++)
        {
            var response = Encoding.ASCII.GetBytes(s_seeds[random.Next(s_seeds.Length)]).ToList();
            var mutated = ByteMutations.Apply(response, random.Next(1, 5), random, () => random.Next(4) == 0 ? (byte)random.Next(256) : s_palette[random.Next(s_palette.Length)]);
            Check(mutated, isHead: random.Next(8) == 0, random, failures);
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Read_CraftedEdgeCases_AgreesWithTheReference()
    {
        var random = new Random(7);
        var failures = new List<string>();
        string[] crafted =
        [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + new string('e', 4094) + "\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + new string('e', 4095) + "\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + new string('v', 4093) + "\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + new string('v', 4094) + "\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: " + new string('h', 65_536 - 43) + "\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: " + new string('h', 65_536 - 42) + "\r\nContent-Length: 0\r\n\r\n",
            string.Concat(Enumerable.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 10)) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            string.Concat(Enumerable.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 11)) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\nbody",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFF\r\nabc",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \t\r\nhello\r\n0\t;x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\nabc",
            "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\u00ff\u0001 reason bytes are not read\r\nContent-Length: 0\r\n\r\n",
        ];

        foreach (var response in crafted)
        {
            for (var round = 0; round < 20; round++)
            {
                Check(Encoding.Latin1.GetBytes(response), isHead: false, random, failures);
            }
        }

        failures.Should().BeEmpty();
    }

    private static void Check(byte[] response, bool isHead, Random random, List<string> failures)
    {
        var expected = Reference.Read(response, isHead);
        Reading actual;
        try
        {
            actual = Driver.Read(response, isHead, random);
        }
        catch (Exception ex) when (ex is not UpstreamProtocolException)
        {
            failures.Add($"{Show(response)} (head: {isHead}): threw {ex.GetType().Name}: {ex.Message}");
            return;
        }

        if (!expected.Equals(actual))
        {
            failures.Add($"{Show(response)} (head: {isHead}):\n  reference {expected}\n  parser    {actual}");
        }
    }

    private static string Show(byte[] bytes) =>
        bytes.Length > 300 ? $"{bytes.Length} bytes" : Regex.Escape(Encoding.Latin1.GetString(bytes));

    /// <summary>
    /// What reading a response yields: the head's fields (or the head's failure), the body's bytes, and how it
    /// ended: "complete" with the count of bytes left after it, "truncated" (the connection ended first), or the
    /// protocol error's reason.
    /// </summary>
    private sealed record Reading(string Head, string Body, string End)
    {
        public static Reading HeadFailed(string reason) => new(reason, "", "");
    }

    /// <summary>The parser and decoder driven as UpstreamChannel drives them, the bytes arriving in random pieces.</summary>
    private static class Driver
    {
        public static Reading Read(byte[] response, bool isHead, Random random)
        {
            var pending = new List<byte>();
            var fed = 0;
            bool Feed()
            {
                if (fed == response.Length)
                {
                    return false;
                }

                var take = Math.Min(response.Length - fed, random.Next(4) == 0 ? random.Next(1, 4) : random.Next(1, 600));
                pending.AddRange(response.AsSpan(fed, take).ToArray());
                fed += take;
                return true;
            }

            UpstreamResponseHead? head = null;
            var interim = 0;
            var steps = 0;
            try
            {
                while (head is null)
                {
                    NoHang(ref steps, response);
                    int consumed;
                    while (!ResponseHeadParser.TryParse(pending.ToArray(), isHead, out consumed, out head))
                    {
                        NoHang(ref steps, response);
                        if (!Feed())
                        {
                            return Reading.HeadFailed("truncated");
                        }
                    }

                    pending.RemoveRange(0, consumed);
                    if (head is null && ++interim > 10)
                    {
                        return Reading.HeadFailed("too many interim (1xx) responses");
                    }
                }
            }
            catch (UpstreamProtocolException ex)
            {
                return Reading.HeadFailed(ex.Message);
            }

            var headText = HeadText(head.StatusCode, head.Headers, head.Framing, head.ContentLength, head.KeepAlive);
            var body = new List<byte>();
            switch (head.Framing)
            {
                case BodyFraming.None:
                    while (Feed())
                    {
                    }

                    return new Reading(headText, "", Complete(pending.Count));

                case BodyFraming.ContentLength:
                    while (Feed())
                    {
                    }

                    if (pending.Count < head.ContentLength)
                    {
                        return new Reading(headText, Text(pending), "truncated");
                    }

                    return new Reading(headText, Text(pending.GetRange(0, (int)head.ContentLength)), Complete(pending.Count - (int)head.ContentLength));

                case BodyFraming.UntilClose:
                    while (Feed())
                    {
                    }

                    return new Reading(headText, Text(pending), Complete(0));
            }

            var decoder = new ChunkedDecoder();
            decoder.Reset();
            try
            {
                while (!decoder.IsComplete)
                {
                    NoHang(ref steps, response);
                    var destination = new byte[random.Next(3) == 0 ? random.Next(1, 8) : 16 * 1024];
                    var written = decoder.Decode(pending.ToArray(), destination, out var consumed);
                    body.AddRange(destination.AsSpan(0, written).ToArray());
                    pending.RemoveRange(0, consumed);
                    if (written == 0 && consumed == 0 && !decoder.IsComplete && !Feed())
                    {
                        return new Reading(headText, Text(body), "truncated");
                    }
                }
            }
            catch (UpstreamProtocolException ex)
            {
                return new Reading(headText, Text(body), ex.Message);
            }

            while (Feed())
            {
            }

            return new Reading(headText, Text(body), Complete(pending.Count));
        }

        private static void NoHang(ref int steps, byte[] response)
        {
            // Every step either uses bytes or asks for more; a few per byte is already generous.
            if (++steps > (response.Length * 4) + 100)
            {
                throw new InvalidOperationException("no progress: the parser or decoder loops without using bytes");
            }
        }
    }

    /// <summary>RFC 9112 framing read plainly, from the whole response at once.</summary>
    private static class Reference
    {
        private const int MaxHead = 65_536;
        private const int MaxLine = 4_096;

        private static readonly Regex s_statusLine = new(@"\AHTTP/1\.([0-9]) ([1-9][0-9][0-9])( .*)?\z", RegexOptions.Singleline | RegexOptions.CultureInvariant);
        private static readonly Regex s_fieldLine = new(@"\A([!#$%&'*+\-.^_`|~0-9A-Za-z]+):(.*)\z", RegexOptions.Singleline | RegexOptions.CultureInvariant);
        private static readonly Regex s_fieldValue = new(@"\A[\t\x20-\x7E]*\z", RegexOptions.CultureInvariant);
        private static readonly Regex s_digits = new(@"\A[0-9]{1,18}\z", RegexOptions.CultureInvariant);
        private static readonly Regex s_chunkSize = new(@"\A[0-9A-Fa-f]{1,15}\z", RegexOptions.CultureInvariant);

        public static Reading Read(byte[] bytes, bool isHead)
        {
            var text = Encoding.Latin1.GetString(bytes); // one char per byte: indexes are byte offsets
            var at = 0;
            for (var interim = 0; ; interim++)
            {
                var end = text.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
                if (end < 0 || end + 4 - at > MaxHead)
                {
                    return Reading.HeadFailed(text.Length - at >= MaxHead ? "response head larger than 64 KiB" : "truncated");
                }

                var lines = text[at..end].Split("\r\n");
                at = end + 4;
                var status = s_statusLine.Match(lines[0]);
                if (!status.Success)
                {
                    return Reading.HeadFailed("invalid status line");
                }

                var code = int.Parse(status.Groups[2].Value, CultureInfo.InvariantCulture);
                if (code == 101)
                {
                    return Reading.HeadFailed("unexpected 101 Switching Protocols");
                }

                if (code < 200)
                {
                    if (interim == 10)
                    {
                        return Reading.HeadFailed("too many interim (1xx) responses");
                    }

                    continue;
                }

                // Line by line, so the first problem in the head is the one reported.
                var fields = new List<KeyValuePair<string, string>>();
                string? length = null;
                foreach (var line in lines.Skip(1))
                {
                    var field = s_fieldLine.Match(line);
                    var value = field.Success ? field.Groups[2].Value.Trim(' ', '\t') : "";
                    if (!field.Success || !s_fieldValue.IsMatch(value))
                    {
                        return Reading.HeadFailed("invalid header line");
                    }

                    if (field.Groups[1].Value.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    {
                        if (!s_digits.IsMatch(value) || (length is not null && long.Parse(length, CultureInfo.InvariantCulture) != long.Parse(value, CultureInfo.InvariantCulture)))
                        {
                            return Reading.HeadFailed("invalid Content-Length");
                        }

                        if (length is not null)
                        {
                            continue; // the same length again: one field
                        }

                        length = value;
                    }

                    fields.Add(new(field.Groups[1].Value, value));
                }

                return ReadAfterHead(text, at, isHead, code, http10: status.Groups[1].Value == "0", fields);
            }
        }

        private static Reading ReadAfterHead(string text, int at, bool isHead, int code, bool http10, List<KeyValuePair<string, string>> fields)
        {
            bool Is(KeyValuePair<string, string> field, string name) => field.Key.Equals(name, StringComparison.OrdinalIgnoreCase);

            var headers = new List<KeyValuePair<string, string>>(fields);
            var lengths = fields.Where(f => Is(f, "Content-Length")).Select(static f => f.Value).ToList();
            var codings = fields.Where(f => Is(f, "Transfer-Encoding")).ToList();
            var connection = fields.Where(f => Is(f, "Connection")).SelectMany(static f => f.Value.Split(',')).Select(static t => t.Trim(' ', '\t')).ToList();
            var close = connection.Any(static t => t.Equals("close", StringComparison.OrdinalIgnoreCase));
            var keepAliveAsked = connection.Any(static t => t.Equals("keep-alive", StringComparison.OrdinalIgnoreCase));
            var keepAlive = !close && (!http10 || keepAliveAsked);
            long length = lengths.Count > 0 ? long.Parse(lengths[0], CultureInfo.InvariantCulture) : -1;
            BodyFraming framing;
            if (isHead || code is 204 or 304)
            {
                framing = BodyFraming.None;
            }
            else if (codings.Count > 0)
            {
                var chunked = codings[^1].Value.Split(',')[^1].Trim(' ', '\t').Equals("chunked", StringComparison.OrdinalIgnoreCase);
                headers.RemoveAll(h => Is(h, "Content-Length"));
                length = -1;
                framing = chunked ? BodyFraming.Chunked : BodyFraming.UntilClose;
                keepAlive &= chunked;
            }
            else if (length >= 0)
            {
                framing = BodyFraming.ContentLength;
            }
            else
            {
                framing = BodyFraming.UntilClose;
                keepAlive = false;
            }

            var head = HeadText(code, headers, framing, length, keepAlive);
            var rest = text[at..];
            return framing switch
            {
                BodyFraming.None => new Reading(head, "", Complete(rest.Length)),
                BodyFraming.ContentLength when rest.Length < length => new Reading(head, rest, "truncated"),
                BodyFraming.ContentLength => new Reading(head, rest[..(int)length], Complete(rest.Length - (int)length)),
                BodyFraming.UntilClose => new Reading(head, rest, Complete(0)),
                _ => ReadChunked(head, rest),
            };
        }

        private static Reading ReadChunked(string head, string rest)
        {
            var body = new StringBuilder();
            var at = 0;
            while (true)
            {
                var (line, problem) = Line(rest, ref at);
                if (line is null)
                {
                    return new Reading(head, body.ToString(), problem!);
                }

                var semicolon = line.IndexOf(';', StringComparison.Ordinal);
                var digits = (semicolon >= 0 ? line[..semicolon] : line).TrimEnd(' ', '\t');
                if (!s_chunkSize.IsMatch(digits))
                {
                    return new Reading(head, body.ToString(), "invalid chunk size");
                }

                var size = long.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    break;
                }

                if (rest.Length - at < size)
                {
                    body.Append(rest.AsSpan(at));
                    return new Reading(head, body.ToString(), "truncated");
                }

                body.Append(rest.AsSpan(at, (int)size));
                at += (int)size;
                if (at < rest.Length && rest[at] != '\r' || at + 1 < rest.Length && rest[at + 1] != '\n')
                {
                    return new Reading(head, body.ToString(), "chunk data not followed by CRLF");
                }

                if (at + 2 > rest.Length)
                {
                    return new Reading(head, body.ToString(), "truncated");
                }

                at += 2;
            }

            while (true)
            {
                var (line, problem) = Line(rest, ref at);
                if (line is null)
                {
                    return new Reading(head, body.ToString(), problem!);
                }

                if (line.Length == 0)
                {
                    return new Reading(head, body.ToString(), Complete(rest.Length - at));
                }
            }
        }

        /// <summary>The next line and the index after its CRLF; null and why when there is none.</summary>
        private static (string? Line, string? Problem) Line(string text, ref int at)
        {
            const string tooLong = "chunk size or trailer line longer than 4 KiB";
            var end = text.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (end < 0)
            {
                // Without its CRLF yet, the line is at least this long (the last byte may be its CR).
                return (null, text.Length - at - 1 > MaxLine ? tooLong : "truncated");
            }

            if (end - at > MaxLine)
            {
                return (null, tooLong);
            }

            var line = text[at..end];
            at = end + 2;
            return (line, null);
        }
    }

    private static string HeadText(int status, List<KeyValuePair<string, string>> headers, BodyFraming framing, long length, bool keepAlive) =>
        $"{status} [{string.Join(" | ", headers.Select(static h => h.Key + ": " + h.Value))}] {framing} {length} keep-alive={keepAlive}";

    private static string Complete(int leftOver) => $"complete, {leftOver} bytes after it";

    private static string Text(List<byte> bytes) => Encoding.Latin1.GetString([.. bytes]);
}
