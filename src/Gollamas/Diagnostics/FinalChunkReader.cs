using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace Gollamas.Diagnostics;

/// <summary>
/// Finds the statistics of Ollama's final chunk (<see cref="GenerationStatistics"/>) in an
/// answer as its reads arrive, however the reads cut it. A mutable struct held in the
/// <see cref="RequestRecord"/>: nothing is allocated, per chunk or per request.
/// </summary>
/// <remarks>
/// Each read costs one vectorised search for <c>"done":true</c>, the field Ollama writes just
/// before its statistics (Go's encoder follows the struct: <c>done</c>, <c>done_reason</c>,
/// <c>context</c>, then <c>total_duration</c> ... <c>eval_duration</c>), one over the 20 bytes
/// around the cut from the read before, and a copy of its last 10 bytes. From the read that
/// holds it (from <c>"done":true</c> on) to the end of the answer, one pass over each read's quotes
/// finds the six keys. A key or its number cut by the end of a read is found
/// in the window of the previous read's last bytes and the next read's first ones; a number is
/// taken only when a byte follows it, so a cut one is never read short. Keys are matched with
/// their quotes and colon: inside a JSON string they would be escaped (<c>\"done\":true</c>), so
/// generated text cannot fake them. Each key is in the final chunk once: finding it twice (in
/// the read and in the window) gives the same value.
/// </remarks>
internal struct FinalChunkReader
{
    /// <summary>The longest key (<c>"prompt_eval_duration":</c>, 23 bytes), 19 digits and a byte after: a key and its number fit.</summary>
    private const int CarryLength = 48;

    /// <summary>What of <c>"done":true</c> can lie on either side of a cut: all of it but a byte.</summary>
    private const int DoneReach = 10;

    private Carry _carry;
    private int _carryLength;
    private bool _pastDone;
    private long _total;
    private long _load;
    private long _promptCount;
    private long _promptDuration;
    private long _evalCount;
    private long _evalDuration;

    /// <summary>What the final chunk said, as far as it has been read.</summary>
    public readonly GenerationStatistics Statistics => new(_total, _load, _promptCount, _promptDuration, _evalCount, _evalDuration);

    /// <summary>Whether the final chunk has started (its <c>"done":true</c> was seen).</summary>
    public readonly bool PastDone => _pastDone;

    /// <summary>Reads the next bytes of the answer; true when they may have carried statistics.</summary>
    public bool Read(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty)
        {
            return false;
        }

        if (!_pastDone)
        {
            // Before the final chunk, the only work: one search, and one across the cut (the
            // previous read's last bytes and this one's first; only 10 of each are kept).
            var done = chunk.IndexOf(Done);
            if (done < 0 && (_carryLength == 0 || Across(chunk, stackalloc byte[2 * DoneReach]).IndexOf(Done) < 0))
            {
                Keep(chunk, DoneReach);
                return false;
            }

            // The statistics follow "done":true, so none was cut by the end of an earlier read,
            // and none is before it in this one: only what follows it is searched (all of this
            // read when "done":true straddled the cut).
            _pastDone = true;
            ReadKeys(done < 0 ? chunk : chunk[done..]);
        }
        else
        {
            ReadKeys(Across(chunk, stackalloc byte[2 * CarryLength]));
            ReadKeys(chunk);
        }

        Keep(chunk, CarryLength);
        return true;
    }

    /// <summary>The kept bytes of the previous reads followed by as many of <paramref name="chunk"/>'s first ones, in <paramref name="buffer"/>.</summary>
    private readonly ReadOnlySpan<byte> Across(ReadOnlySpan<byte> chunk, Span<byte> buffer)
    {
        ReadOnlySpan<byte> carried = _carry;
        carried[.._carryLength].CopyTo(buffer);
        var head = chunk[..Math.Min(chunk.Length, buffer.Length - _carryLength)];
        head.CopyTo(buffer[_carryLength..]);
        return buffer[..(_carryLength + head.Length)];
    }

    private static ReadOnlySpan<byte> Done => "\"done\":true"u8;

    // One pass over the quotes of the text, the only bytes a key can start at: at each, the
    // key it may start (told by the byte after it) is compared, and the search goes on after a
    // key found. A key's first place in the text decides its value, as a search for each key
    // would, at a fraction of the cost (six searches of the whole read were a twentieth of a
    // small request's instructions).
    private void ReadKeys(ReadOnlySpan<byte> text)
    {
        var seen = 0;
        var at = text.IndexOf((byte)'"');
        while (at >= 0 && seen != AllKeys)
        {
            var rest = text[at..];
            var matched = 0;
            if (rest.Length > 1)
            {
                switch (rest[1])
                {
                    case (byte)'t':
                        matched = TryRead(rest, "\"total_duration\":"u8, 1, ref seen, ref _total);
                        break;
                    case (byte)'l':
                        matched = TryRead(rest, "\"load_duration\":"u8, 2, ref seen, ref _load);
                        break;
                    case (byte)'p':
                        matched = TryRead(rest, "\"prompt_eval_count\":"u8, 4, ref seen, ref _promptCount);
                        if (matched == 0)
                        {
                            matched = TryRead(rest, "\"prompt_eval_duration\":"u8, 8, ref seen, ref _promptDuration);
                        }

                        break;
                    case (byte)'e':
                        matched = TryRead(rest, "\"eval_count\":"u8, 16, ref seen, ref _evalCount);
                        if (matched == 0)
                        {
                            matched = TryRead(rest, "\"eval_duration\":"u8, 32, ref seen, ref _evalDuration);
                        }

                        break;
                }
            }

            // A key ends with its closing quote and a colon: no other key starts inside it.
            var skip = Math.Max(1, matched);
            var next = rest[skip..].IndexOf((byte)'"');
            at = next < 0 ? -1 : at + skip + next;
        }
    }

    /// <summary>The bits of the six keys in <see cref="ReadKeys"/>.</summary>
    private const int AllKeys = 63;

    /// <summary>Keeps the last <paramref name="length"/> bytes of the answer so far (at most <see cref="CarryLength"/>).</summary>
    private void Keep(ReadOnlySpan<byte> chunk, int length)
    {
        Span<byte> carry = _carry;
        if (chunk.Length >= length)
        {
            chunk[^length..].CopyTo(carry);
            _carryLength = length;
            return;
        }

        var kept = Math.Min(_carryLength, length - chunk.Length);
        carry.Slice(_carryLength - kept, kept).CopyTo(carry);
        chunk.CopyTo(carry[kept..]);
        _carryLength = kept + chunk.Length;
    }

    /// <summary>The length of <paramref name="key"/> when <paramref name="text"/> starts with it, else 0; its number is taken the first time only.</summary>
    private static int TryRead(ReadOnlySpan<byte> text, ReadOnlySpan<byte> key, int bit, ref int seen, ref long value)
    {
        if (!text.StartsWith(key))
        {
            return 0;
        }

        if ((seen & bit) == 0)
        {
            seen |= bit;
            var number = text[key.Length..];
            if (Utf8Parser.TryParse(number, out long parsed, out var consumed) && consumed < number.Length && parsed >= 0)
            {
                value = parsed;
            }
        }

        return key.Length;
    }

    [InlineArray(CarryLength)]
    private struct Carry
    {
        private byte _first;
    }
}
