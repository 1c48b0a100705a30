using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Gollamas.Bench.Load;

/// <summary>
/// Incremental HTTP/1.1 response reader: status line and headers (kept until the blank line,
/// they are small), then a chunked or Content-Length body, counting '\n' in the payload.
/// </summary>
internal sealed class ResponseParser
{
    private readonly List<byte> _head = [];
    private State _state = State.Head;
    private long _remaining;
    private long _chunkSize;
    private int _lineLength;

    private enum State
    {
        Head,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailer,
        FixedBody,
        Done,
    }

    public int Status { get; private set; }

    public long BodyBytes { get; private set; }

    public int Lines { get; private set; }

    public bool Done => _state == State.Done;

    public bool Feed(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length && _state != State.Done)
        {
            var b = data[i];
            switch (_state)
            {
                case State.Head:
                    _head.Add(b);
                    i++;
                    if (b == '\n' && EndsWithBlankLine() && !StartBody())
                    {
                        return false;
                    }

                    break;
                case State.ChunkSize:
                    i++;
                    if (b == '\n')
                    {
                        _state = _chunkSize == 0 ? State.Trailer : State.ChunkData;
                        _remaining = _chunkSize;
                        _lineLength = 0;
                    }
                    else if (_lineLength >= 0 && HexValue(b) is var digit && digit >= 0)
                    {
                        _chunkSize = (_chunkSize * 16) + digit;
                    }
                    else
                    {
                        // ';' starts a chunk extension and '\r' ends the line: stop reading digits.
                        _lineLength = -1;
                    }

                    break;
                case State.ChunkData:
                case State.FixedBody:
                    var take = (int)Math.Min(_remaining, data.Length - i);
                    Count(data.Slice(i, take));
                    i += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = _state == State.FixedBody ? State.Done : State.ChunkDataEnd;
                    }

                    break;
                case State.ChunkDataEnd:
                    i++;
                    if (b == '\n')
                    {
                        _state = State.ChunkSize;
                        _chunkSize = 0;
                        _lineLength = 0;
                    }

                    break;
                case State.Trailer:
                    i++;
                    if (b == '\n')
                    {
                        if (_lineLength == 0)
                        {
                            _state = State.Done;
                        }

                        _lineLength = 0;
                    }
                    else if (b != '\r')
                    {
                        _lineLength++;
                    }

                    break;
            }
        }

        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private void Count(ReadOnlySpan<byte> payload)
    {
        BodyBytes += payload.Length;
        Lines += payload.Count((byte)'\n');
    }

    private bool EndsWithBlankLine()
    {
        var n = _head.Count;
        return n >= 4 && _head[n - 4] == '\r' && _head[n - 3] == '\n' && _head[n - 2] == '\r';
    }

    private bool StartBody()
    {
        var head = Encoding.ASCII.GetString([.. _head]);
        if (head.Length < 12 || !head.StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !Utf8Parser.TryParse(Encoding.ASCII.GetBytes(head[9..12]), out int status, out _))
        {
            return false;
        }

        Status = status;
        _head.Clear();
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && line.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                _state = State.ChunkSize;
                _chunkSize = 0;
                _lineLength = 0;
                return true;
            }

            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                _remaining = long.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            }
        }

        _state = _remaining > 0 ? State.FixedBody : State.Done;
        return true;
    }
}
