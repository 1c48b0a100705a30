using Gollamas.Bodies;
using Gollamas.Connections;

namespace Gollamas.Endpoints;

/// <summary>
/// What reading request bodies shares across requests: the store that keeps them (memory or
/// temporary files), and the line for decompressing zstd bodies, which must come before any
/// server's slot (the model is inside the compressed body).
/// </summary>
internal sealed record RequestBodies(BodyStore Store, ConcurrencyGate Decompressions);
