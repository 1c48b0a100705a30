using System.Text;
using Gollamas.Diagnostics;

namespace Gollamas.Tests.Diagnostics;

/// <summary><see cref="FinalChunkReader"/> on its own: an answer's bytes in, however cut, the final chunk's statistics out.</summary>
public sealed class FinalChunkReaderTests
{
    // As Ollama 0.9 streams a chat: content lines, then the final one with its statistics.
    private const string Chat =
        """{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":"Hel"},"done":false}""" + "\n" +
        """{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":"lo"},"done":false}""" + "\n" +
        """{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4935886791,"load_duration":534986708,"prompt_eval_count":26,"prompt_eval_duration":107345000,"eval_count":298,"eval_duration":4289432000}""" + "\n";

    private static readonly GenerationStatistics s_chat = new(4935886791, 534986708, 26, 107345000, 298, 4289432000);

    [Fact]
    public void Read_WholeAnswerInOneRead_EveryStatistic()
    {
        var reader = default(FinalChunkReader);

        var found = reader.Read(Encoding.UTF8.GetBytes(Chat));

        found.Should().BeTrue();
        reader.Statistics.Should().Be(s_chat);
    }

    [Fact]
    public void Read_CutInTwoAtEveryByte_SameStatistics()
    {
        var answer = Encoding.UTF8.GetBytes(Chat);

        for (var cut = 1; cut < answer.Length; cut++)
        {
            var reader = default(FinalChunkReader);
            reader.Read(answer.AsSpan(0, cut));
            reader.Read(answer.AsSpan(cut));

            reader.Statistics.Should().Be(s_chat, "the answer was cut after byte {0}", cut);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(47)]
    [InlineData(48)]
    [InlineData(49)]
    [InlineData(100)]
    public void Read_InPiecesOfAnySize_SameStatistics(int piece)
    {
        var answer = Encoding.UTF8.GetBytes(Chat);
        var reader = default(FinalChunkReader);

        for (var at = 0; at < answer.Length; at += piece)
        {
            reader.Read(answer.AsSpan(at, Math.Min(piece, answer.Length - at)));
        }

        reader.Statistics.Should().Be(s_chat);
    }

    [Fact]
    public void Read_WholeGenerateAnswerWithContext_EveryStatistic()
    {
        var context = string.Join(",", Enumerable.Range(1, 5000));
        var answer = Encoding.UTF8.GetBytes("""{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","response":"Hello","done":true,"done_reason":"stop","context":[""" + context + """],"total_duration":9,"load_duration":8,"prompt_eval_count":7,"prompt_eval_duration":6,"eval_count":5,"eval_duration":4}""");
        var reader = default(FinalChunkReader);

        for (var at = 0; at < answer.Length; at += 4096)
        {
            reader.Read(answer.AsSpan(at, Math.Min(4096, answer.Length - at)));
        }

        reader.Statistics.Should().Be(new GenerationStatistics(9, 8, 7, 6, 5, 4));
    }

    [Fact]
    public void Read_FieldsLeftOut_ReadAsZero()
    {
        var reader = default(FinalChunkReader);

        reader.Read("""{"message":{"content":""},"done":true,"total_duration":120,"eval_count":3,"eval_duration":60}"""u8);

        reader.Statistics.Should().Be(new GenerationStatistics(120, 0, 0, 0, 3, 60));
        reader.Statistics.IsColdLoad.Should().BeFalse();
        reader.Statistics.HasPromptRate.Should().BeFalse();
        reader.Statistics.HasEvalRate.Should().BeTrue();
    }

    [Fact]
    public void Read_LoadOnlyAnswer_NothingPresent()
    {
        var reader = default(FinalChunkReader);

        reader.Read("""{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","response":"","done":true,"done_reason":"load"}"""u8);

        reader.PastDone.Should().BeTrue();
        reader.Statistics.IsPresent.Should().BeFalse();
    }

    [Fact]
    public void Read_KeysInGeneratedText_NotTaken()
    {
        // Inside a JSON string the quotes are escaped, so the text cannot pose as the final chunk.
        var reader = default(FinalChunkReader);

        var found = reader.Read("""{"message":{"content":"{\"done\":true,\"eval_count\":99,\"load_duration\":9}"},"done":false}"""u8);

        found.Should().BeFalse();
        reader.Statistics.IsPresent.Should().BeFalse();
    }

    [Fact]
    public void Read_KeysOfToolCallArgumentsBeforeDone_NotTaken()
    {
        // A tool call's arguments are JSON members, not text: unescaped keys, in the same read as
        // the statistics when the answer is not streamed. Only what follows "done":true counts.
        var reader = default(FinalChunkReader);

        reader.Read("""{"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"report","arguments":{"eval_count":7,"total_duration":1}}}]},"done_reason":"stop","done":true,"total_duration":4935886791,"load_duration":534986708,"prompt_eval_count":26,"prompt_eval_duration":107345000,"eval_count":298,"eval_duration":4289432000}"""u8);

        reader.Statistics.Should().Be(s_chat);
    }

    [Fact]
    public void Read_KeyTwiceAfterDone_FirstDecides()
    {
        var reader = default(FinalChunkReader);

        reader.Read("""{"done":true,"eval_count":3,"eval_count":4,"eval_duration":5}"""u8);

        reader.Statistics.EvalCount.Should().Be(3);
        reader.Statistics.EvalDuration.Should().Be(5);
    }

    [Fact]
    public void Read_NumberCutByTheLastRead_NotTakenShort()
    {
        var reader = default(FinalChunkReader);

        reader.Read("""{"done":true,"eval_count":12"""u8);

        reader.Statistics.EvalCount.Should().Be(0, "12 may be the start of 1234");
        reader.Read("""34,"eval_duration":5}"""u8);
        reader.Statistics.EvalCount.Should().Be(1234);
    }
}
