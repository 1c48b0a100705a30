using Gollamas.Diagnostics;
using Gollamas.Routing;
using Gollamas.Security;

namespace Gollamas.Endpoints;

/// <summary>
/// The models a request's key may use (--key-models): a key with such a list finds any other
/// model unknown, in the model-addressed endpoints (404) and in the lists (left out).
/// </summary>
internal static class KeyModels
{
    /// <summary>The models the request's key is limited to, or null: every model.</summary>
    public static IReadOnlyList<string>? Of(KeyLimits limits, RequestRecord record) =>
        limits.IsEmpty ? null : limits.For(record.KeyName)?.Policy.Models;

    /// <summary>Whether one of <paramref name="models"/> (names or aliases as configured) resolves to <paramref name="route"/>; null allows all.</summary>
    public static bool Allows(IReadOnlyList<string>? models, ModelRoute route, RouteTable table)
    {
        if (models is null)
        {
            return true;
        }

        foreach (var model in models)
        {
            if (table.TryResolve(model, out var match) && ReferenceEquals(match.Route, route))
            {
                return true;
            }
        }

        return false;
    }
}
