using System.Globalization;
using System.Text;

namespace Harness.Core.Backends;

/// <summary>
/// The watchdog's rules, recorded in run.json. A deadline only has to tell a hung request from a slow one, so every
/// figure errs towards waiting: a first request (no speed measured yet) gets <see cref="FirstRequestFloor"/>, a later
/// one <see cref="Slack"/> times what the slowest speed seen so far predicts, never less than <see cref="RequestFloor"/>.
/// </summary>
/// <param name="LoadFloor">Least time a model load gets.</param>
/// <param name="LoadPerGibibyte">Added to the load deadline per GiB of model file (a slow disk reads a few tens of MB/s).</param>
/// <param name="FirstRequestFloor">Deadline of a request before any speed of this model is known.</param>
/// <param name="RequestFloor">Least time any later request gets.</param>
/// <param name="Slack">Multiplies the predicted time of a request.</param>
/// <param name="TemplateTokenAllowance">Added to a prompt's byte count, which bounds its token count from above, for the
/// tokens a chat template adds.</param>
public sealed record WatchdogSettings(
    TimeSpan LoadFloor,
    TimeSpan LoadPerGibibyte,
    TimeSpan FirstRequestFloor,
    TimeSpan RequestFloor,
    double Slack,
    int TemplateTokenAllowance)
{
    /// <summary>Load: 300 s + 30 s per GiB; first request 1800 s; later requests 10x the prediction, at least 60 s.</summary>
    public static WatchdogSettings Default { get; } = new(
        TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1800), TimeSpan.FromSeconds(60), 10, 64);
}

/// <summary>A deadline and, for the error message of a request that passes it, how it was derived.</summary>
public sealed record RequestDeadline(TimeSpan Limit, string Basis);

/// <summary>The work in a request, as the parent can know it before the model tokenizes anything.</summary>
/// <param name="PromptTokens">An upper bound on the tokens decoded as prompt (UTF-8 bytes plus the template allowance).</param>
/// <param name="NewTokens">Tokens to be generated at most (<c>max_tokens</c>); 0 for log-likelihood and trace requests.</param>
public readonly record struct RequestSize(int PromptTokens, int NewTokens)
{
    /// <summary>A generation request: its prompt and its token budget.</summary>
    public static RequestSize Of(GenerationRequest request, WatchdogSettings settings) =>
        new(PromptBound(request.Prompt, settings), Math.Max(0, request.Settings.MaxTokens));

    /// <summary>A log-likelihood request: the context and every continuation are decoded, nothing is generated.</summary>
    public static RequestSize Of(LogLikelihoodRequest request, WatchdogSettings settings) =>
        new(PromptBound(request.Prompt, settings) + request.Continuations.Sum(c => Encoding.UTF8.GetByteCount(c)), 0);

    /// <summary>A trace request: prompt and continuation are decoded.</summary>
    public static RequestSize Of(DistributionTraceRequest request, WatchdogSettings settings) =>
        new(PromptBound(request.Prompt, settings) + Encoding.UTF8.GetByteCount(request.Continuation), 0);

    // Every tokenizer llama.cpp loads maps at least one byte to a token (special tokens aside, which the allowance covers).
    private static int PromptBound(RenderedPrompt prompt, WatchdogSettings settings)
    {
        var chat = prompt.Messages.IsDefaultOrEmpty ? 0 : prompt.Messages.Sum(m => Encoding.UTF8.GetByteCount(m.Content) + Encoding.UTF8.GetByteCount(m.Role));
        return Math.Max(Encoding.UTF8.GetByteCount(prompt.PlainText), chat) + settings.TemplateTokenAllowance;
    }
}

/// <summary>
/// Deadlines for one model's loads and requests. Learns the model's speed from every answered request (the slowest
/// per-token time seen, so a burst of fast items never shortens the deadline of a slow one) and keeps it across sessions,
/// so a fresh worker after a crash is held to what the model has shown. Thread-safe.
/// </summary>
/// <param name="itemTimeout">Fixed per-request deadline (CLI <c>--item-timeout</c> or the manifest's <c>item_timeout_s</c>); replaces the derivation.</param>
/// <param name="loadTimeout">Fixed load deadline (<c>--load-timeout</c>, <c>load_timeout_s</c>).</param>
public sealed class RequestDeadlines(WatchdogSettings settings, TimeSpan? itemTimeout = null, TimeSpan? loadTimeout = null)
{
    private readonly Lock _gate = new();
    private double? _secondsPerPromptToken;
    private double? _secondsPerNewToken;

    public WatchdogSettings Settings => settings;

    /// <summary>The deadline of loading a file of <paramref name="fileSizeBytes"/>.</summary>
    public RequestDeadline Load(long fileSizeBytes)
    {
        if (loadTimeout is { } fixedLimit)
        {
            return new RequestDeadline(fixedLimit, "the load timeout set for this model");
        }

        var gibibytes = Math.Max(0, fileSizeBytes) / (1024.0 * 1024 * 1024);
        var limit = settings.LoadFloor + (settings.LoadPerGibibyte * gibibytes);
        return new RequestDeadline(limit, string.Create(CultureInfo.InvariantCulture,
            $"{settings.LoadFloor.TotalSeconds:0.#} s + {settings.LoadPerGibibyte.TotalSeconds:0.#} s per GiB of a {gibibytes:0.###} GiB file"));
    }

    /// <summary>
    /// The deadline of a request of <paramref name="size"/>; with <paramref name="sequences"/> &gt; 1, the wait for the next
    /// result of a batch whose largest outstanding request has that size (decodes are shared among the sequences).
    /// </summary>
    public RequestDeadline For(RequestSize size, int sequences = 1)
    {
        if (itemTimeout is { } fixedLimit)
        {
            return new RequestDeadline(fixedLimit, "the item timeout set for this model");
        }

        double? perPrompt, perNew;
        lock (_gate)
        {
            (perPrompt, perNew) = (_secondsPerPromptToken, _secondsPerNewToken);
        }

        var needsPrompt = size.PromptTokens > 0;
        var needsNew = size.NewTokens > 0;
        if ((needsPrompt && perPrompt is null) || (needsNew && perNew is null))
        {
            return new RequestDeadline(settings.FirstRequestFloor, string.Create(CultureInfo.InvariantCulture,
                $"the first-request floor of {settings.FirstRequestFloor.TotalSeconds:0.#} s (this model's speed for such a request is not measured yet)"));
        }

        var promptSeconds = needsPrompt ? size.PromptTokens * perPrompt!.Value : 0;
        var newSeconds = needsNew ? size.NewTokens * perNew!.Value : 0;
        var parallel = Math.Max(1, sequences);
        var predicted = TimeSpan.FromSeconds(settings.Slack * parallel * (promptSeconds + newSeconds));
        var batch = parallel > 1 ? string.Create(CultureInfo.InvariantCulture, $" x {parallel} sequences") : "";
        var derivation = string.Create(CultureInfo.InvariantCulture,
            $"{settings.Slack:0.##} x ({size.PromptTokens} prompt tokens at {perPrompt * 1000 ?? 0:0.###} ms + {size.NewTokens} new tokens at {perNew * 1000 ?? 0:0.###} ms){batch}");
        return predicted >= settings.RequestFloor
            ? new RequestDeadline(predicted, derivation)
            : new RequestDeadline(settings.RequestFloor, string.Create(CultureInfo.InvariantCulture,
                $"the floor of {settings.RequestFloor.TotalSeconds:0.#} s (above {derivation})"));
    }

    /// <summary>Learns from an answered request: its prompt and generation speed.</summary>
    /// <param name="promptTokens">Tokens decoded as prompt (context plus continuations for log-likelihood requests).</param>
    public void Observe(int promptTokens, int newTokens, RequestTimings timings)
    {
        // Without a generation phase the whole request is prompt work.
        var promptTime = newTokens > 0 ? timings.PromptEvaluation : Max(timings.PromptEvaluation, timings.Total);
        lock (_gate)
        {
            // A zero time is a measurement too (a tiny model): the request floor then applies.
            if (promptTokens > 0 && promptTime >= TimeSpan.Zero)
            {
                _secondsPerPromptToken = Slowest(_secondsPerPromptToken, promptTime.TotalSeconds / promptTokens);
            }

            if (newTokens > 0 && timings.Generation >= TimeSpan.Zero)
            {
                _secondsPerNewToken = Slowest(_secondsPerNewToken, timings.Generation.TotalSeconds / newTokens);
            }
        }
    }

    private static double Slowest(double? known, double seen) => known is { } k ? Math.Max(k, seen) : seen;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
