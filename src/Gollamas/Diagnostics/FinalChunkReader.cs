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
/// holds it to the end of the answer, each read is searched for the six keys. A key or its number cut by the end of a read is found
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
            if (chunk.IndexOf(Done) < 0 && (_carryLength == 0 || Across(chunk, stackalloc byte[2 * DoneReach]).IndexOf(Done) < 0))
            {
                Keep(chunk, DoneReach);
                return false;
            }

            // The statistics follow "done":true, so none was cut by the end of an earlier read.
            _pastDone = true;
        }
        else
        {
            ReadKeys(Across(chunk, stackalloc byte[2 * CarryLength]));
        }

        ReadKeys(chunk);
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

    private void ReadKeys(ReadOnlySpan<byte> text)
    {
        TryRead(text, "\"total_duration\":"u8, ref _total);
        TryRead(text, "\"load_duration\":"u8, ref _load);
        TryRead(text, "\"prompt_eval_count\":"u8, ref _promptCount);
        TryRead(text, "\"prompt_eval_duration\":"u8, ref _promptDuration);
        TryRead(text, "\"eval_count\":"u8, ref _evalCount);
        TryRead(text, "\"eval_duration\":"u8, ref _evalDuration);
    }

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

    private static void TryRead(ReadOnlySpan<byte> text, ReadOnlySpan<byte> key, ref long value)
    {
        var at = text.IndexOf(key);
        if (at < 0)
        {
            return;
        }

        var number = text[(at + key.Length)..];
        if (Utf8Parser.TryParse(number, out long parsed, out var consumed) && consumed < number.Length && parsed >= 0)
        {
            value = parsed;
        }
    }

    [InlineArray(CarryLength)]
    private struct Carry
    {
        private byte _first;
    }
}
