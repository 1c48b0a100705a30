using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// The scan and the plan of a small body on the request path, as <c>ModelEndpoints</c> runs them (a rented scanner,
/// the snapshot's watched fields, the route's rules), allocate nothing once the thread's spare scanner and the pools
/// are warm: with no rule, and with rules whose splices fit inline. Bytes counted, not time.
/// </summary>
public sealed class RequestRulesAllocationTests
{
    private static readonly byte[] s_body = """{"model":"llama3.2","think":true,"messages":[{"role":"user","content":"hi"}],"options":{"seed":1},"stream":false}"""u8.ToArray();

    [Fact]
    public void ScanAndPlan_NoRule_AllocatesNothing()
    {
        AllocatedPerRequest(RequestDefaults.None, WatchedFields.None).Should().Be(0);
    }

    [Fact]
    public void ScanAndPlan_DefaultForceAndStrip_AllocatesNothing()
    {
        var rules = new RequestDefaults(
        [
            new RequestRule(RuleAction.Default, "keep_alive", "-1"),
            new RequestRule(RuleAction.Force, "options.num_ctx", "8192"),
            new RequestRule(RuleAction.Strip, "think", null),
        ]);
        var other = new RequestDefaults([new RequestRule(RuleAction.Strip, "options.seed", null)]);

        AllocatedPerRequest(rules, WatchedFields.Of([rules, other])).Should().Be(0);
    }

    private static long AllocatedPerRequest(RequestDefaults rules, WatchedFields watched)
    {
        const int Requests = 1_000;
        var name = new char[ModelPeek.MaxNameChars];
        // A first pass lets the runtime settle (tiered compilation may replace the loop's code
        // while it runs, and that may allocate once); the second pass is the one measured.
        var spliced = Many(rules, watched, name, Requests);
        var before = GC.GetAllocatedBytesForCurrentThread();
        spliced += Many(rules, watched, name, Requests);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        spliced.Should().Be(rules.IsEmpty ? 0 : 3 * 2 * Requests, "the rules apply");
        return allocated / Requests;
    }

    private static int Many(RequestDefaults rules, WatchedFields watched, char[] name, int requests)
    {
        var spliced = 0;
        for (var i = 0; i < requests; i++)
        {
            spliced += Once(rules, watched, name);
        }

        return spliced;
    }

    // Splices made, or -1000 when the model is not found or the plan fails (no assertion in
    // the loop: assertions allocate).
    private static int Once(RequestDefaults rules, WatchedFields watched, char[] name)
    {
        using var scan = JsonBodyScan.Rent(acceptName: false, watched);
        scan.Feed(s_body);
        if (scan.Complete(name).Status != PeekStatus.Found
            || !RequestDefaultsSplice.TryApply(new ForwardBody(s_body), scan.Layout, rules, out var body))
        {
            return -1000;
        }

        return body.SpliceCount;
    }
}
