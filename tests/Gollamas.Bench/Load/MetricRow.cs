namespace Gollamas.Bench.Load;

/// <summary>
/// One line of the result: a figure for each target (null: not measured or not meaningful,
/// such as the direct column of a proxy's memory) and the target for Gollamas, if any.
/// </summary>
internal sealed record MetricRow(string Id, string Name, string Unit, double? Direct, double? Nginx, double? Gollamas, Goal? Goal = null)
{
    public double? RatioToDirect => Ratio(Gollamas, Direct);

    public double? RatioToNginx => Ratio(Gollamas, Nginx);

    public bool? Met => Goal?.IsMet(Gollamas, Nginx);

    private static double? Ratio(double? a, double? b) => a is { } x && b is { } y && y != 0 ? x / y : null;
}
