using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;

namespace Harness.Tests.Fakes;

/// <summary>
/// A hand-written backend for unit tests: answers come from a function of the prompt, and failures are
/// scripted per model (load failure, session lost after N requests, backend error on a prompt).
/// </summary>
internal sealed class FakeBackend(Func<RenderedPrompt, string> answer) : IModelBackend
{
    public string Name => "fake";

    public Func<RenderedPrompt, string> Answer { get; } = answer;

    /// <summary>Answers that depend on the model as well (model id, prompt); null: <see cref="Answer"/> for every model.</summary>
    public Func<string, RenderedPrompt, string>? ModelAnswer { get; init; }

    private string AnswerFor(string modelId, RenderedPrompt prompt) => ModelAnswer?.Invoke(modelId, prompt) ?? Answer(prompt);

    public HashSet<string> FailToLoad { get; } = [];

    /// <summary>Models whose sessions cannot return next-token distributions (as an OpenAI-compatible server's cannot).</summary>
    public HashSet<string> WithoutDistributions { get; } = [];

    /// <summary>Loads after which every further load fails (a worker that dies and cannot come back); null: no limit.</summary>
    public int? LoadLimit { get; set; }

    /// <summary>Model id -> number of successful requests after which the session is lost.</summary>
    public Dictionary<string, int> LoseSessionAfter { get; } = [];

    /// <summary>Model id -> requests answered across all its sessions after which every session is lost (a model that kills every worker).</summary>
    public Dictionary<string, int> KillEveryWorkerAfter { get; } = [];

    /// <summary>Prompt (plain text) -> how many of its requests lose their session (a poison item); int.MaxValue: all.</summary>
    public Dictionary<string, int> CrashOnPrompt { get; } = [];

    /// <summary>Prompts whose request loses its session as the watchdog's kill does (kind timeout).</summary>
    public HashSet<string> HangOnPrompt { get; } = [];

    /// <summary>Prompts (plain text) whose request fails with a backend error.</summary>
    public HashSet<string> FailOnPrompt { get; } = [];

    /// <summary>Log-probability of each continuation: by default a function of the answer text.</summary>
    public Func<RenderedPrompt, string, double>? LogProbability { get; init; }

    /// <summary>
    /// Next-token probabilities over the fake's 4-token vocabulary (token = character code mod 4) for a model at a
    /// position. Default: the same for every model, so drift is 0.
    /// </summary>
    public Func<string, int, double[]> Distribution { get; init; } = (_, _) => [0.4, 0.3, 0.2, 0.1];

    public int Loads { get; private set; }

    private readonly Dictionary<string, int> _answered = [];

    private int AnsweredBy(string modelId) => _answered.GetValueOrDefault(modelId);

    public int Requests { get; private set; }

    public Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (FailToLoad.Contains(model.Id))
        {
            throw new ModelLoadException($"model '{model.Id}': {modelPath} is not a GGUF file");
        }

        if (Loads >= LoadLimit)
        {
            throw new ModelLoadException($"model '{model.Id}': the fake's load limit of {LoadLimit} is reached");
        }

        Loads++;
        var session = new Session(this, model.Id);
        return Task.FromResult<IModelSession>(WithoutDistributions.Contains(model.Id) ? new UntracedSession(session) : session);
    }

    /// <summary>The same session without <see cref="ITokenDistributionProbe"/>: generation and scoring only.</summary>
    private sealed class UntracedSession(Session inner) : IModelSession, ILogLikelihoodScorer
    {
        public ModelLoadInfo LoadInfo => inner.LoadInfo;

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken) =>
            inner.GenerateAsync(request, cancellationToken);

        public Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken) =>
            inner.ScoreContinuationsAsync(request, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class Session(FakeBackend backend, string modelId) : IModelSession, ILogLikelihoodScorer, ITokenDistributionProbe
    {
        public Task<DistributionTrace> TraceAsync(DistributionTraceRequest request, CancellationToken cancellationToken)
        {
            Admit(request.Prompt, cancellationToken);
            var text = request.Prompt.PlainText + request.Continuation;
            ImmutableArray<int> tokens = [.. text.Select(c => c % 4)];
            var positions = ImmutableArray.CreateBuilder<PositionDistribution>();
            for (var i = 0; i + 1 < tokens.Length; i++)
            {
                var p = backend.Distribution(modelId, i);
                var order = Enumerable.Range(0, p.Length).OrderByDescending(t => p[t]).ThenBy(t => t).Take(request.TopK).ToArray();
                var probes = request.ProbeTokens.IsDefaultOrEmpty ? [] : request.ProbeTokens[i];
                positions.Add(new PositionDistribution(
                    tokens[i + 1], (float)Math.Log(p[tokens[i + 1]]),
                    [.. order], [.. order.Select(t => (float)Math.Log(p[t]))], [.. probes.Select(t => (float)Math.Log(p[t]))]));
            }

            return Task.FromResult(new DistributionTrace(text, tokens, positions.ToImmutable(), Timings(0)));
        }

        private int _served;

        public ModelLoadInfo LoadInfo { get; } = new("fake", TimeSpan.FromMilliseconds(5), 1234, 4096, "none",
            ImmutableSortedDictionary<string, string>.Empty.Add("threads", "1"),
            ImmutableSortedDictionary<string, string>.Empty.Add("fake", "1"));

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
        {
            Admit(request.Prompt, cancellationToken);
            var text = backend.AnswerFor(modelId, request.Prompt);
            return Task.FromResult(new GenerationResult(text, FinishReason.StopSequence, request.Prompt.PlainText,
                request.Prompt.PlainText.Length, text.Length, Timings(text.Length)));
        }

        public Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken)
        {
            Admit(request.Prompt, cancellationToken);
            var preferred = backend.AnswerFor(modelId, request.Prompt);
            var scores = request.Continuations
                .Select(c => new ContinuationScore(c,
                    backend.LogProbability?.Invoke(request.Prompt, c) ?? (c == preferred ? -0.1 : -5.0),
                    c.Length, System.Text.Encoding.UTF8.GetByteCount(c), c == preferred))
                .ToImmutableArray();
            return Task.FromResult(new LogLikelihoodResult(request.Prompt.PlainText, request.Prompt.PlainText.Length, scores, Timings(0)));
        }

        private void Admit(RenderedPrompt prompt, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (backend.LoseSessionAfter.TryGetValue(modelId, out var limit) && _served >= limit)
            {
                throw new SessionLostException($"model '{modelId}': worker process aborted (SIGABRT, exit 134)");
            }

            if (backend.KillEveryWorkerAfter.TryGetValue(modelId, out var total) && backend.AnsweredBy(modelId) >= total)
            {
                throw new SessionLostException($"model '{modelId}': worker process was killed (SIGKILL, exit 137)");
            }

            if (backend.CrashOnPrompt.TryGetValue(prompt.PlainText, out var crashes) && crashes > 0)
            {
                backend.CrashOnPrompt[prompt.PlainText] = crashes == int.MaxValue ? crashes : crashes - 1;
                throw new SessionLostException($"model '{modelId}': worker process aborted (SIGABRT, exit 134); its last output: GGML_ASSERT on '{prompt.PlainText}'");
            }

            if (backend.HangOnPrompt.Contains(prompt.PlainText))
            {
                throw new SessionLostException($"model '{modelId}': timeout after 2 s (deadline 2 s from the item timeout set for this model)", ItemFailureKind.Timeout);
            }

            _served++;
            backend.Requests++;
            backend._answered[modelId] = backend.AnsweredBy(modelId) + 1;
            if (backend.FailOnPrompt.Contains(prompt.PlainText))
            {
                throw new BackendException($"model '{modelId}' produced non-finite logits");
            }
        }

        private static RequestTimings Timings(int generated) => new(
            TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(8), TimeSpan.FromMilliseconds(2 * generated),
            TimeSpan.FromMilliseconds(10 + (2 * generated)));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
