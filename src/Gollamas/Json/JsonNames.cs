using System.Text.Json;

namespace Gollamas.Json;

/// <summary>Pre-encoded JSON property names, so writers and readers never re-encode them.</summary>
internal static class JsonNames
{
    public static readonly JsonEncodedText Model = JsonEncodedText.Encode("model");
    public static readonly JsonEncodedText Models = JsonEncodedText.Encode("models");
    public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
    public static readonly JsonEncodedText ModifiedAt = JsonEncodedText.Encode("modified_at");
    public static readonly JsonEncodedText Error = JsonEncodedText.Encode("error");
    public static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
    public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
    public static readonly JsonEncodedText Param = JsonEncodedText.Encode("param");
    public static readonly JsonEncodedText Code = JsonEncodedText.Encode("code");
    public static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    public static readonly JsonEncodedText Object = JsonEncodedText.Encode("object");
    public static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");
    public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    public static readonly JsonEncodedText Created = JsonEncodedText.Encode("created");
    public static readonly JsonEncodedText OwnedBy = JsonEncodedText.Encode("owned_by");
    public static readonly JsonEncodedText RequestId = JsonEncodedText.Encode("request_id");
}
