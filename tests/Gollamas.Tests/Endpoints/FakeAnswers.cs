using System.Text;
using Gollamas.Tests.Fakes;

namespace Gollamas.Tests.Endpoints;

/// <summary>
/// Hand-written upstream answers for the list endpoints, so a test controls every byte a fake sends
/// (unknown fields, offsets, escapes) and can state the merged answer exactly.
/// </summary>
internal static class FakeAnswers
{
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>Answers GET (and HEAD) <paramref name="path"/> on <paramref name="fake"/> with <paramref name="json"/>.</summary>
    public static void ServeJson(FakeOllamaServer fake, string path, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Task Answer(Microsoft.AspNetCore.Http.HttpContext context, RecordedRequest request)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = JsonContentType;
            context.Response.ContentLength = bytes.Length;
            return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
        }

        fake.Map("GET", path, Answer);
        fake.Map("HEAD", path, Answer);
    }

    /// <summary><c>{"models":[…]}</c> around already-serialised entries.</summary>
    public static string Models(params string[] entries) => "{\"models\":[" + string.Join(",", entries) + "]}";

    /// <summary>An entry with <c>name</c> and <c>model</c> replaced, as an alias is listed.</summary>
    public static string AsAlias(string entry, string original, string alias) =>
        entry.Replace($"\"name\":\"{original}\",\"model\":\"{original}\"", $"\"name\":\"{alias}\",\"model\":\"{alias}\"", StringComparison.Ordinal);
}
