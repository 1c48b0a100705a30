namespace Gollamas.Endpoints;

/// <summary>The HTTP methods an endpoint answers; the others get 405 with these in <c>Allow</c>, in this order.</summary>
[Flags]
internal enum ApiMethods
{
    None = 0,
    Get = 1,
    Head = 2,
    Post = 4,
    Delete = 8,
}
