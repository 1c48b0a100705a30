using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>One target of the issue and how to check it against a row.</summary>
internal sealed record Goal(GoalKind Kind, double Limit = 0)
{
    public static Goal AtLeastNginx { get; } = new(GoalKind.AtLeastNginx);

    public static Goal AtMostNginx { get; } = new(GoalKind.AtMostNginx);

    public static Goal Below(double limit) => new(GoalKind.Below, limit);

    public static Goal Zero { get; } = new(GoalKind.Equal, 0);

    public string Text => Kind switch
    {
        GoalKind.AtLeastNginx => ">= nginx",
        GoalKind.AtMostNginx => "<= nginx",
        GoalKind.Below => string.Create(CultureInfo.InvariantCulture, $"< {Limit:0.###}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"= {Limit:0.###}"),
    };

    /// <summary>true met, false missed, null when it cannot be told (no figure, no nginx).</summary>
    public bool? IsMet(double? gollamas, double? nginx) => (Kind, gollamas, nginx) switch
    {
        (_, null, _) => null,
        (GoalKind.AtLeastNginx, _, null) or (GoalKind.AtMostNginx, _, null) => null,
        (GoalKind.AtLeastNginx, var g, var n) => g >= n,
        (GoalKind.AtMostNginx, var g, var n) => g <= n,
        (GoalKind.Below, var g, _) => g < Limit,
        (_, var g, _) => g == Limit,
    };
}
