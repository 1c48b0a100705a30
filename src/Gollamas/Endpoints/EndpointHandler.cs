using Gollamas.Diagnostics;
using Gollamas.Routing;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// What a row of the endpoint table does with a request it matched, with a method it allows: a
/// static lambda over the endpoint objects, so a request allocates no closure to reach it; it
/// serves the request from <c>snapshot</c>, the one the request read at its start.
/// </summary>
internal delegate Task EndpointHandler(EndpointSet endpoints, HttpContext context, ApiSurface surface, RequestRecord record, ProxySnapshot snapshot);
