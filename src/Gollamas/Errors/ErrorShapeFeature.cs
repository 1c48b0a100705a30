namespace Gollamas.Errors;

/// <summary>
/// The error shape of the API a request belongs to, set on the request as a feature before
/// anything can fail, so <see cref="ErrorWriter"/> writes every error of the request in it
/// without deciding again from the path. One shared instance per shape: setting it allocates
/// nothing per request.
/// </summary>
internal sealed class ErrorShapeFeature
{
    private static readonly ErrorShapeFeature s_ollama = new(ErrorShape.Ollama);
    private static readonly ErrorShapeFeature s_openAi = new(ErrorShape.OpenAi);
    private static readonly ErrorShapeFeature s_openAiResponses = new(ErrorShape.OpenAiResponses);
    private static readonly ErrorShapeFeature s_anthropic = new(ErrorShape.Anthropic);

    private ErrorShapeFeature(ErrorShape shape) => Shape = shape;

    public ErrorShape Shape { get; }

    /// <summary>The shared feature of <paramref name="shape"/>.</summary>
    public static ErrorShapeFeature Of(ErrorShape shape) => shape switch
    {
        ErrorShape.OpenAi => s_openAi,
        ErrorShape.OpenAiResponses => s_openAiResponses,
        ErrorShape.Anthropic => s_anthropic,
        _ => s_ollama,
    };
}
