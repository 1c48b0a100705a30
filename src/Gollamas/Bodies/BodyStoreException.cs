namespace Gollamas.Bodies;

/// <summary>
/// The body's temporary file could not be created or written (the directory full, or gone): the
/// proxy's trouble, not the client's, so it is answered 503 rather than taken for a broken body.
/// </summary>
internal sealed class BodyStoreException(Exception inner) : Exception("A request body's temporary file could not be written.", inner);
