using System.Text;
using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <see cref="ConversationKey"/>: the same key on every turn of a conversation, whatever grows
/// after its first user message; another key when the system prompt or the first user message
/// differs; the fields read as Go's decoder reads them; a prefix of the body giving the key only
/// when the key's parts lie in it.
/// </summary>
public sealed class ConversationKeyTests
{
    private const string System = "You are a terse assistant who answers in French.";
    private const string FirstQuestion = "What is the capital of Australia, and why was it chosen?";

    // Shapes by name: the enum is internal, a theory's parameters public.
    public static TheoryData<string> ChatShapes => new()
    {
        nameof(ConversationShape.OllamaChat),
        nameof(ConversationShape.OpenAiChat),
        nameof(ConversationShape.AnthropicMessages),
        nameof(ConversationShape.OpenAiResponses),
    };

    public static TheoryData<string, int> ChatShapesAndTurns()
    {
        var data = new TheoryData<string, int>();
        foreach (var shape in new[] { nameof(ConversationShape.OllamaChat), nameof(ConversationShape.OpenAiChat), nameof(ConversationShape.AnthropicMessages), nameof(ConversationShape.OpenAiResponses) })
        {
            foreach (var turns in new[] { 2, 3, 10 })
            {
                data.Add(shape, turns);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ChatShapesAndTurns))]
    public void TryCompute_LaterTurnsOfAConversation_GiveTheFirstTurnsKey(string shapeName, int turns)
    {
        var shape = Enum.Parse<ConversationShape>(shapeName);
        var first = Key(Conversation(shape, System, FirstQuestion, turns: 1), shape);

        var later = Key(Conversation(shape, System, FirstQuestion, turns), shape);

        later.Should().Be(first);
    }

    [Theory]
    [MemberData(nameof(ChatShapes))]
    public void TryCompute_AnotherSystemPrompt_GivesAnotherKey(string shapeName)
    {
        var shape = Enum.Parse<ConversationShape>(shapeName);
        var key = Key(Conversation(shape, System, FirstQuestion, turns: 2), shape);

        var other = Key(Conversation(shape, "You are a pirate.", FirstQuestion, turns: 2), shape);

        other.Should().NotBe(key);
    }

    [Theory]
    [MemberData(nameof(ChatShapes))]
    public void TryCompute_AnotherFirstUserMessage_GivesAnotherKey(string shapeName)
    {
        var shape = Enum.Parse<ConversationShape>(shapeName);
        var key = Key(Conversation(shape, System, FirstQuestion, turns: 2), shape);

        var other = Key(Conversation(shape, System, FirstQuestion + "?", turns: 2), shape);

        other.Should().NotBe(key);
    }

    [Theory]
    [MemberData(nameof(ChatShapes))]
    public void TryCompute_NoSystemPrompt_StillKeyedByTheFirstUserMessage(string shapeName)
    {
        var shape = Enum.Parse<ConversationShape>(shapeName);
        var first = Key(Conversation(shape, system: null, FirstQuestion, turns: 1), shape);

        var later = Key(Conversation(shape, system: null, FirstQuestion, turns: 4), shape);
        var withSystem = Key(Conversation(shape, System, FirstQuestion, turns: 4), shape);

        later.Should().Be(first);
        withSystem.Should().NotBe(first);
    }

    [Fact]
    public void TryCompute_OneByteChangedAnywhereInTheFirstMessage_GivesAnotherKey()
    {
        // Every length around the hash's 8-byte words, and every position in it.
        for (var length = 1; length <= 24; length++)
        {
            var text = new string('a', length);
            var key = Key(Chat($$$"""{"messages":[{"role":"user","content":"{{{text}}}"}]}"""), ConversationShape.OllamaChat);
            for (var position = 0; position < length; position++)
            {
                var changed = text[..position] + "b" + text[(position + 1)..];

                var other = Key(Chat($$$"""{"messages":[{"role":"user","content":"{{{changed}}}"}]}"""), ConversationShape.OllamaChat);

                other.Should().NotBe(key, $"byte {position} of {length} differs");
            }

            Key(Chat($$$"""{"messages":[{"role":"user","content":"{{{text}}}a"}]}"""), ConversationShape.OllamaChat)
                .Should().NotBe(key, "a longer message is another one");
        }
    }

    [Fact]
    public void TryCompute_TheModel_IsNotPartOfTheKey()
    {
        var key = Key(Chat("""{"model":"llama3.2","messages":[{"role":"user","content":"hi there"}]}"""), ConversationShape.OllamaChat);

        var other = Key(Chat("""{"model":"qwen3:8b","messages":[{"role":"user","content":"hi there"}]}"""), ConversationShape.OllamaChat);

        other.Should().Be(key);
    }

    [Fact]
    public void TryCompute_FieldsInAnyOrder_GiveTheSameKey()
    {
        var key = Key(Chat("""{"model":"m","system":"be brief","stream":true,"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"""), ConversationShape.AnthropicMessages);

        var reordered = Key(Chat("""{"messages":[{"content":"hi","role":"user"}],"max_tokens":5,"system":"be brief","model":"m","stream":true}"""), ConversationShape.AnthropicMessages);

        reordered.Should().Be(key);
    }

    [Fact]
    public void TryCompute_KeysInAnyCase_ReadAsGoReadsThem()
    {
        var key = Key(Chat("""{"messages":[{"role":"user","content":"hi"}]}"""), ConversationShape.OllamaChat);

        var shouted = Key(Chat("""{"MESSAGES":[{"Role":"user","CONTENT":"hi"}]}"""), ConversationShape.OllamaChat);
        var escaped = Key(Chat("""{"me\u0073sages":[{"rol\u0065":"user","content":"hi"}]}"""), ConversationShape.OllamaChat);
        var longS = Key(Chat("""{"me\u017Fsages":[{"role":"user","content":"hi"}]}"""), ConversationShape.OllamaChat);

        shouted.Should().Be(key);
        escaped.Should().Be(key);
        longS.Should().Be(key, "Go's foldName folds U+017F to s");
    }

    [Fact]
    public void TryCompute_ImagesAndToolsAround_DoNotChangeTheKey()
    {
        var image = new string('A', 100_000);
        var key = Key(Chat("""{"messages":[{"role":"user","content":"describe"}]}"""), ConversationShape.OllamaChat);

        var withImages = Key(
            Chat($$$$"""{"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"messages":[{"role":"user","images":["{{{{image}}}}"],"content":"describe"},{"role":"assistant","content":"a cat"}],"options":{"num_ctx":8192}}"""),
            ConversationShape.OllamaChat);

        withImages.Should().Be(key);
    }

    [Fact]
    public void TryCompute_ContentAsAListOfParts_IsKeyedAndStable()
    {
        const string parts = """[{"type":"text","text":"Look at this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]""";
        var asString = Key(Chat("""{"messages":[{"role":"user","content":"Look at this"}]}"""), ConversationShape.OpenAiChat);
        var first = Key(Chat("""{"messages":[{"role":"user","content":""" + parts + "}]}"), ConversationShape.OpenAiChat);

        var later = Key(Chat("""{"messages":[{"role":"user","content":""" + parts + """},{"role":"assistant","content":"A chart."},{"role":"user","content":[{"type":"text","text":"And?"}]}]}"""), ConversationShape.OpenAiChat);

        later.Should().Be(first);
        first.Should().NotBe(asString, "the key covers the content's value, whatever its shape");
    }

    [Fact]
    public void TryCompute_WhiteSpaceBetweenTheContentsTokens_DoesNotCount()
    {
        var compact = Key(Chat("""{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"""), ConversationShape.OpenAiChat);

        var spaced = Key(Chat("{\"messages\":[{\"role\":\"user\",\"content\": [ {\n  \"type\" : \"text\",\n  \"text\" : \"hi\"\n} ]}]}"), ConversationShape.OpenAiChat);

        spaced.Should().Be(compact);
    }

    [Fact]
    public void TryCompute_CacheControlMovingToTheLatestMessage_DoesNotChangeTheKey()
    {
        // Anthropic clients mark the newest user message for caching; on the next turn the mark moves on.
        var first = Key(
            Chat("""{"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}"""),
            ConversationShape.AnthropicMessages);

        var second = Key(
            Chat("""{"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":"Hello."},{"role":"user","content":[{"type":"text","text":"more","cache_control":{"type":"ephemeral"}}]}]}"""),
            ConversationShape.AnthropicMessages);

        second.Should().Be(first);
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("system")]
    public void TryCompute_SystemAndDeveloperMessagesBeforeTheFirstUserOne_ArePartOfTheKey(string role)
    {
        var without = Key(Chat("""{"messages":[{"role":"user","content":"hi"}]}"""), ConversationShape.OpenAiChat);

        var with = Key(Chat($$$"""{"messages":[{"role":"{{{role}}}","content":"be brief"},{"role":"user","content":"hi"}]}"""), ConversationShape.OpenAiChat);

        with.Should().NotBe(without);
    }

    [Fact]
    public void TryCompute_ASystemMessageAddedAfterTheFirstUserOne_DoesNotChangeTheKey()
    {
        var first = Key(Chat("""{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}"""), ConversationShape.OllamaChat);

        var later = Key(Chat("""{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"},{"role":"assistant","content":"Hello."},{"role":"system","content":"now be verbose"},{"role":"user","content":"go on"}]}"""), ConversationShape.OllamaChat);

        later.Should().Be(first);
    }

    [Theory]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"messages":[{"role":"system","content":"be brief"}]}""")]
    [InlineData("""{"messages":[{"role":"assistant","content":"Hello."}]}""")]
    [InlineData("""{"messages":null}""")]
    [InlineData("""{"model":"m"}""")]
    [InlineData("""{}""")]
    public void TryCompute_NoUserMessage_HasNoKey(string json)
    {
        ConversationKey.TryCompute(Encoding.UTF8.GetBytes(json), isFinalBlock: true, ConversationShape.OllamaChat, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""[{"messages":[{"role":"user","content":"hi"}]}]""")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]""")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"},]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],}""")]
    [InlineData("""{"messages":[{"role":"user","content":hi}]}""")]
    [InlineData("""{"messages":"hi"}""")]
    [InlineData("""{"messages":[{"role":1,"content":"hi"}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"model":"m" "stream":true}""")]
    [InlineData("""null""")]
    public void TryCompute_NotJsonOrRefusedByGo_HasNoKeyAndDoesNotThrow(string json)
    {
        var found = ConversationKey.TryCompute(Encoding.UTF8.GetBytes(json), isFinalBlock: true, ConversationShape.OllamaChat, out var key);

        found.Should().BeFalse();
        key.Should().Be(0);
    }

    [Fact]
    public void TryCompute_ShapeNone_HasNoKey()
    {
        ConversationKey.TryCompute(Chat("""{"messages":[{"role":"user","content":"hi"}]}"""), isFinalBlock: true, ConversationShape.None, out _).Should().BeFalse();
    }

    [Fact]
    public void TryCompute_RepeatedMessages_TheLastWinsAsInGo()
    {
        var last = Key(Chat("""{"messages":[{"role":"user","content":"second"}]}"""), ConversationShape.OllamaChat);
        var firstOnly = Key(Chat("""{"messages":[{"role":"user","content":"first"}]}"""), ConversationShape.OllamaChat);

        var repeated = Key(Chat("""{"messages":[{"role":"user","content":"first"}],"model":"m","Messages":[{"role":"user","content":"second"}]}"""), ConversationShape.OllamaChat);
        var emptied = ConversationKey.TryCompute(
            Chat("""{"messages":[{"role":"user","content":"first"}],"messages":null}"""), isFinalBlock: true, ConversationShape.OllamaChat, out _);

        repeated.Should().Be(last).And.NotBe(firstOnly);
        emptied.Should().BeFalse("null empties a Go slice");
    }

    [Fact]
    public void TryCompute_RepeatedSystem_TheLastWinsAsInGo()
    {
        var last = Key(Chat("""{"system":"two","messages":[{"role":"user","content":"hi"}]}"""), ConversationShape.AnthropicMessages);

        var repeated = Key(Chat("""{"system":"one","messages":[{"role":"user","content":"hi"}],"system":"two"}"""), ConversationShape.AnthropicMessages);

        repeated.Should().Be(last);
    }

    [Fact]
    public void TryCompute_RepeatedRoleAndContentInAMessage_TheLastWins()
    {
        var last = Key(Chat("""{"messages":[{"role":"user","content":"b"}]}"""), ConversationShape.OllamaChat);

        var lastSystem = Key(Chat("""{"messages":[{"role":"system","content":"b"},{"role":"user","content":"c"}]}"""), ConversationShape.OllamaChat);

        var repeated = Key(Chat("""{"messages":[{"role":"assistant","content":"a","role":"user","content":"b"}]}"""), ConversationShape.OllamaChat);
        var repeatedSystem = Key(Chat("""{"messages":[{"role":"user","content":"a","role":"system","content":"b"},{"role":"user","content":"c"}]}"""), ConversationShape.OllamaChat);

        repeated.Should().Be(last);
        repeatedSystem.Should().Be(lastSystem);
    }

    [Fact]
    public void TryCompute_ResponsesInputAsAString_IsTheFirstUserMessage()
    {
        var asString = Key(Chat("""{"instructions":"be brief","input":"Why is the sky blue?"}"""), ConversationShape.OpenAiResponses);

        var again = Key(Chat("""{"input":"Why is the sky blue?","model":"m","instructions":"be brief"}"""), ConversationShape.OpenAiResponses);
        var otherInstructions = Key(Chat("""{"instructions":"be verbose","input":"Why is the sky blue?"}"""), ConversationShape.OpenAiResponses);

        again.Should().Be(asString);
        otherInstructions.Should().NotBe(asString);
    }

    [Fact]
    public void TryCompute_ResponsesItemsWithoutARole_AreSkipped()
    {
        var first = Key(Chat("""{"input":[{"role":"user","content":"weather?"}]}"""), ConversationShape.OpenAiResponses);

        var later = Key(
            Chat("""{"input":[{"type":"reasoning","summary":[]},{"type":"message","role":"user","content":"weather?"},{"type":"function_call","call_id":"c1","name":"weather","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"sunny"}]}"""),
            ConversationShape.OpenAiResponses);

        later.Should().Be(first);
    }

    [Theory]
    [InlineData(nameof(ConversationShape.OllamaChat))]
    [InlineData(nameof(ConversationShape.AnthropicMessages))]
    public void TryCompute_PrefixHoldingTheParts_GivesTheWholeBodysKey(string shapeName)
    {
        var shape = Enum.Parse<ConversationShape>(shapeName);
        var body = Conversation(shape, System, FirstQuestion, turns: 10);
        var whole = Key(body, shape);
        var end = IndexAfter(body, "Assistant answer 3");

        var found = ConversationKey.TryCompute(body.AsSpan(0, end), isFinalBlock: false, shape, out var key);

        found.Should().BeTrue();
        key.Should().Be(whole);
    }

    [Fact]
    public void TryCompute_PrefixEndingInsideTheFirstUserMessage_HasNoKey()
    {
        var body = Conversation(ConversationShape.OllamaChat, System, FirstQuestion, turns: 3);
        var inside = IndexAfter(body, "capital of");

        for (var end = 0; end <= inside; end++)
        {
            ConversationKey.TryCompute(body.AsSpan(0, end), isFinalBlock: false, ConversationShape.OllamaChat, out _)
                .Should().BeFalse($"the first {end} bytes do not hold the first user message");
        }
    }

    [Fact]
    public void TryCompute_PrefixEndingJustAfterTheFirstUserMessage_GivesTheKey()
    {
        var body = Conversation(ConversationShape.OllamaChat, System, FirstQuestion, turns: 3);
        var whole = Key(body, ConversationShape.OllamaChat);
        var end = IndexAfter(body, FirstQuestion + "\"}");

        var found = ConversationKey.TryCompute(body.AsSpan(0, end), isFinalBlock: false, ConversationShape.OllamaChat, out var key);

        found.Should().BeTrue();
        key.Should().Be(whole);
    }

    [Fact]
    public void TryCompute_PrefixEndingBeforeATopLevelSystemPrompt_HasNoKey()
    {
        // The system prompt comes after the messages: a prefix cannot tell it from an absent one.
        var body = Chat($$$"""{"messages":[{"role":"user","content":"{{{FirstQuestion}}}"},{"role":"assistant","content":"Canberra."}],"system":"{{{System}}}"}""");
        var end = IndexAfter(body, "Canberra.");

        ConversationKey.TryCompute(body.AsSpan(0, end), isFinalBlock: false, ConversationShape.AnthropicMessages, out _).Should().BeFalse();
        ConversationKey.TryCompute(body, isFinalBlock: false, ConversationShape.AnthropicMessages, out _).Should().BeTrue("the whole object is within the bytes");
    }

    [Fact]
    public void TryCompute_WholeBodyPassedAsNotFinal_GivesTheSameKey()
    {
        var body = Conversation(ConversationShape.OpenAiResponses, System, FirstQuestion, turns: 3);

        var found = ConversationKey.TryCompute(body, isFinalBlock: false, ConversationShape.OpenAiResponses, out var key);

        found.Should().BeTrue();
        key.Should().Be(Key(body, ConversationShape.OpenAiResponses));
    }

    [Fact]
    public void TryCompute_Generate_GrowingRawPromptKeepsItsKey()
    {
        var context = string.Concat(Enumerable.Repeat("Cutting Knowledge Date: December 2023. ", 12));
        var start = "<|system|>" + context + "<|user|>Tell me a long story about a lighthouse keeper.<|assistant|>";
        var first = Key(Generate(system: null, start), ConversationShape.OllamaGenerate);

        var later = Key(Generate(system: null, start + new string('x', 2_000) + "<|user|>Go on.<|assistant|>"), ConversationShape.OllamaGenerate);
        var other = Key(Generate(system: null, start.Replace("<|system|>", "<|system|>!", StringComparison.Ordinal)), ConversationShape.OllamaGenerate);

        later.Should().Be(first);
        other.Should().NotBe(first);
    }

    [Fact]
    public void TryCompute_Generate_PromptShorterThan512Bytes_IsKeyedByAllOfIt()
    {
        // So a raw conversation's key settles once its prompt holds 512 bytes, usually from its second turn.
        var start = "<|system|>You are a helpful assistant.<|user|>Tell me a long story about a lighthouse keeper.<|assistant|>";
        var first = Key(Generate(system: null, start), ConversationShape.OllamaGenerate);

        var second = Key(Generate(system: null, start + new string('x', 600)), ConversationShape.OllamaGenerate);
        var third = Key(Generate(system: null, start + new string('x', 600) + "<|user|>Go on.<|assistant|>"), ConversationShape.OllamaGenerate);

        second.Should().NotBe(first);
        third.Should().Be(second);
    }

    [Fact]
    public void TryCompute_Generate_OnlyThePromptsFirst512BytesCount()
    {
        var prefix = new string('p', ConversationKey.PromptPrefixBytes);
        var key = Key(Generate(system: null, prefix + "one ending"), ConversationShape.OllamaGenerate);

        var sameStart = Key(Generate(system: null, prefix + "another ending"), ConversationShape.OllamaGenerate);
        var lastByteChanged = Key(Generate(system: null, prefix[..^1] + "q" + "one ending"), ConversationShape.OllamaGenerate);

        sameStart.Should().Be(key);
        lastByteChanged.Should().NotBe(key);
    }

    [Fact]
    public void TryCompute_Generate_SystemIsPartOfTheKey()
    {
        var prompt = new string('p', 100);
        var without = Key(Generate(system: null, prompt), ConversationShape.OllamaGenerate);

        var with = Key(Generate("be brief", prompt), ConversationShape.OllamaGenerate);
        var other = Key(Generate("be verbose", prompt), ConversationShape.OllamaGenerate);

        with.Should().NotBe(without);
        other.Should().NotBe(with);
    }

    [Fact]
    public void TryCompute_Generate_ShortPromptHasNoKey()
    {
        var shortest = new string('p', ConversationKey.MinPromptBytes);

        ConversationKey.TryCompute(Generate(null, shortest[..^1]), isFinalBlock: true, ConversationShape.OllamaGenerate, out _).Should().BeFalse();
        ConversationKey.TryCompute(Generate(null, shortest), isFinalBlock: true, ConversationShape.OllamaGenerate, out _).Should().BeTrue();
    }

    [Fact]
    public void TryCompute_Generate_RepeatedPromptTheLastWinsAndNullChangesNothing()
    {
        var one = new string('1', 100);
        var two = new string('2', 100);
        var last = Key(Generate("s", two), ConversationShape.OllamaGenerate);

        var repeated = Key(Chat($$$"""{"prompt":"{{{one}}}","system":"s","prompt":"{{{two}}}","prompt":null,"system":null}"""), ConversationShape.OllamaGenerate);

        repeated.Should().Be(last);
    }

    [Fact]
    public void TryCompute_Generate_PrefixCuttingALongPromptAfterItsFirst512Bytes_GivesTheKey()
    {
        var body = Generate("be brief", new string('p', 10_000));
        var whole = Key(body, ConversationShape.OllamaGenerate);
        var promptStart = IndexAfter(body, "\"prompt\":\"");

        var found = ConversationKey.TryCompute(body.AsSpan(0, promptStart + ConversationKey.PromptPrefixBytes), isFinalBlock: false, ConversationShape.OllamaGenerate, out var key);
        var tooShort = ConversationKey.TryCompute(body.AsSpan(0, promptStart + ConversationKey.PromptPrefixBytes - 1), isFinalBlock: false, ConversationShape.OllamaGenerate, out _);

        found.Should().BeTrue();
        key.Should().Be(whole);
        tooShort.Should().BeFalse();
    }

    [Fact]
    public void TryCompute_Generate_PrefixWithoutTheSystemField_HasNoKey()
    {
        // Generate(...) puts the prompt first: the system field may follow the bytes passed.
        var body = Chat($$$"""{"prompt":"{{{new string('p', 10_000)}}}","system":"be brief"}""");

        ConversationKey.TryCompute(body.AsSpan(0, 2_000), isFinalBlock: false, ConversationShape.OllamaGenerate, out _).Should().BeFalse();
    }

    [Fact]
    public void TryCompute_SmallChatBody_AllocatesNothing()
    {
        var body = Conversation(ConversationShape.AnthropicMessages, System, FirstQuestion, turns: 3);
        // A first pass lets the runtime settle (tiered compilation may replace the loop's code
        // while it runs, and that may allocate once); the second pass is the one measured.
        var sum = KeysOf(body);
        var before = GC.GetAllocatedBytesForCurrentThread();
        sum += KeysOf(body);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
        sum.Should().NotBe(0);
    }

    private static ulong KeysOf(byte[] body)
    {
        var sum = 0UL;
        for (var i = 0; i < 1_000; i++)
        {
            ConversationKey.TryCompute(body, isFinalBlock: true, ConversationShape.AnthropicMessages, out var key);
            sum += key;
        }

        return sum;
    }

    private static ulong Key(byte[] body, ConversationShape shape)
    {
        ConversationKey.TryCompute(body, isFinalBlock: true, shape, out var key).Should().BeTrue("the body has a conversation key");
        return key;
    }

    private static byte[] Chat(string json) => Encoding.UTF8.GetBytes(json);

    private static byte[] Generate(string? system, string prompt) =>
        Encoding.UTF8.GetBytes(system is null
            ? $$$"""{"model":"m","prompt":"{{{prompt}}}","raw":true}"""
            : $$$"""{"model":"m","system":"{{{system}}}","prompt":"{{{prompt}}}","raw":true}""");

    private static int IndexAfter(byte[] body, string text)
    {
        var at = body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text));
        at.Should().BeGreaterThanOrEqualTo(0, $"the body holds {text}");
        return at + Encoding.UTF8.GetByteCount(text);
    }

    /// <summary>
    /// A conversation of <paramref name="turns"/> user turns in <paramref name="shape"/>'s body,
    /// each turn after the first one with an assistant answer and a tool call and its result
    /// between, as clients resend the history.
    /// </summary>
    private static byte[] Conversation(ConversationShape shape, string? system, string firstQuestion, int turns)
    {
        var messages = new StringBuilder();
        var topSystem = "";
        if (system is not null)
        {
            switch (shape)
            {
                case ConversationShape.AnthropicMessages:
                    topSystem = $"\"system\":\"{system}\",";
                    break;
                case ConversationShape.OpenAiResponses:
                    topSystem = $"\"instructions\":\"{system}\",";
                    break;
                default:
                    messages.Append($$$"""{"role":"system","content":"{{{system}}}"},""");
                    break;
            }
        }

        messages.Append($$$"""{"role":"user","content":"{{{firstQuestion}}}"}""");
        for (var turn = 1; turn < turns; turn++)
        {
            messages.Append(shape switch
            {
                ConversationShape.AnthropicMessages =>
                    $$$""",{"role":"assistant","content":[{"type":"tool_use","id":"t{{{turn}}}","name":"lookup","input":{"q":"x"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t{{{turn}}}","content":"result {{{turn}}}"}]}""",
                ConversationShape.OpenAiResponses =>
                    $$$""",{"type":"function_call","call_id":"c{{{turn}}}","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c{{{turn}}}","output":"result {{{turn}}}"}""",
                _ =>
                    $$$$""",{"role":"assistant","content":"","tool_calls":[{"function":{"name":"lookup","arguments":{"q":"x"}}}]},{"role":"tool","content":"result {{{{turn}}}}"}""",
            });
            messages.Append($$$""",{"role":"assistant","content":"Assistant answer {{{turn}}}"},{"role":"user","content":"Follow-up question {{{turn}}}"}""");
        }

        var list = shape == ConversationShape.OpenAiResponses ? "input" : "messages";
        return Encoding.UTF8.GetBytes($$$"""{"model":"llama3.2",{{{topSystem}}}"stream":true,"{{{list}}}":[{{{messages}}}],"options":{"temperature":0}}""");
    }
}
