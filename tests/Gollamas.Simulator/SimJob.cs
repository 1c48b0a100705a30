using System.Threading.Channels;

namespace Gollamas.Simulator;

/// <summary>
/// One request inside a simulated server: the model changes its state (only in the clock's
/// actions), and tells its progress through <see cref="Progress"/>.
/// </summary>
public sealed class SimJob
{
    private readonly Channel<SimProgress> _progress = Channel.CreateUnbounded<SimProgress>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    internal SimJob(SimJobRequest request)
    {
        Request = request;
        AnswerWords = request.Kind == SimJobKind.Generate ? SimTokens.Answer(request.Model.Name, request.Prompt, request.OutputTokens) : [];
        AnswerTokens = SimTokens.Words(string.Join(' ', AnswerWords));
    }

    public SimJobRequest Request { get; }

    /// <summary>The answer's words, in order; <see cref="SimProgressKind.Tokens"/> says how many more are out.</summary>
    public IReadOnlyList<string> AnswerWords { get; }

    public ChannelReader<SimProgress> Progress => _progress.Reader;

    internal int[] AnswerTokens { get; }

    internal SimJobState State { get; set; }

    internal SimRunner? Runner { get; set; }

    internal SimSlot? Slot { get; set; }

    internal TimeSpan Arrived { get; set; }

    internal TimeSpan LoadDuration { get; set; }

    internal TimeSpan PrefillEnd { get; set; }

    internal TimeSpan End { get; set; }

    internal int Evaluated { get; set; }

    internal int Emitted { get; set; }

    internal void Tell(SimProgress progress)
    {
        _progress.Writer.TryWrite(progress);
        if (progress.Kind != SimProgressKind.Tokens)
        {
            _progress.Writer.TryComplete();
        }
    }
}

internal enum SimJobState
{
    New,

    /// <summary>In the scheduler's FIFO, no model handed over yet.</summary>
    Pending,

    /// <summary>Handed a model (maybe still loading), waiting for a slot.</summary>
    Assigned,

    /// <summary>In a slot.</summary>
    Running,
    Finished,
    Cancelled,
}
