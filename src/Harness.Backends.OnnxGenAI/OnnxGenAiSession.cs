using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Harness.Backends.OnnxGenAI;

/// <summary>
/// One loaded GenAI model. Every request gets its own GenAI generator (its KV cache) and reads the raw logits output, so
/// tokens are chosen and scored by the same <see cref="LogitMath"/> as the llama.cpp session: GenAI's own search is never
/// used, and the same logits give the same token in both runtimes. One request at a time.
/// </summary>
internal sealed class OnnxGenAiSession : IModelSession, ILogLikelihoodScorer, ITokenDistributionProbe
{
    private readonly ModelEntry _entry;
    private readonly OnnxGenAiFolder _folder;
    private readonly Config _config;
    private readonly Model _model;
    private readonly Tokenizer _tokenizer;
    private readonly int _contextSize;
    private readonly bool _useChatTemplate;
    private readonly TimeProvider _time;
    private readonly ImmutableHashSet<int> _endOfGeneration;
    private readonly int? _prependBos;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Reused across requests (one at a time, under _gate) so the per-token loop does not allocate.
    private readonly float[] _logits;
    private readonly float[] _contextLogits;
    private readonly double[] _sampleWeights;
    private int _disposed;

    internal OnnxGenAiSession(
        ModelEntry entry, OnnxGenAiFolder folder, Config config, Model model, Tokenizer tokenizer, int contextSize,
        bool useChatTemplate, TimeProvider time, ModelLoadInfo loadInfo)
    {
        _entry = entry;
        _folder = folder;
        _config = config;
        _model = model;
        _tokenizer = tokenizer;
        _contextSize = contextSize;
        _useChatTemplate = useChatTemplate;
        _time = time;
        _endOfGeneration = [.. tokenizer.GetEosTokenIds().ToArray()];
        _logits = new float[folder.VocabularySize];
        _contextLogits = new float[folder.VocabularySize];
        _sampleWeights = new double[folder.VocabularySize];
        var (prependBos, addBos) = DecideBos(folder, tokenizer);
        _prependBos = prependBos;
        LoadInfo = loadInfo with
        {
            EffectiveSettings = loadInfo.EffectiveSettings
                .SetItem("end_of_generation_tokens", string.Join(",", _endOfGeneration.Order().Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture))))
                .SetItem("add_bos", addBos)
                .SetItem("parse_special_in_prompt", "true (GenAI's tokenizer always parses special tokens)"),
        };
    }

    public ModelLoadInfo LoadInfo { get; }

    /// <summary>
    /// Whether texts start with BOS. onnxruntime-extensions does not apply tokenizer.json's post-processor, so GenAI's
    /// Encode leaves out the BOS that Hugging Face (and llama.cpp, from the GGUF) put first; where tokenizer_config.json
    /// asks for it (<c>add_bos_token</c>) and the tokenizer left it out, the backend prepends it.
    /// </summary>
    private static (int? PrependBos, string Description) DecideBos(OnnxGenAiFolder folder, Tokenizer tokenizer)
    {
        var bos = tokenizer.GetBosTokenId();
        using var probe = tokenizer.Encode("x");
        var tokenizerAdds = probe[0].Length > 0 && probe[0][0] == bos;
        return (folder.AddBos, tokenizerAdds) switch
        {
            (_, true) => (null, "true (GenAI's tokenizer adds it)"),
            (true, false) => (bos, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"true (tokenizer_config.json add_bos_token; token {bos} prepended by the backend: GenAI's tokenizer leaves it out)")),
            _ => (null, "false"),
        };
    }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateSettings(request.Settings);
        return RunAsync(start => Generate(request, start, cancellationToken), cancellationToken);
    }

    public Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Continuations.IsDefault)
            throw new ArgumentException("Continuations must not be a default ImmutableArray.", nameof(request));
        return RunAsync(start => Score(request, start, cancellationToken), cancellationToken);
    }

    public Task<DistributionTrace> TraceAsync(DistributionTraceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.TopK < 1)
            throw new ArgumentOutOfRangeException(nameof(request), request.TopK, "TopK must be at least 1.");
        return RunAsync(start => Trace(request, start, cancellationToken), cancellationToken);
    }

    private static void ValidateSettings(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MaxTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxTokens, "MaxTokens must be at least 1.");
        if (!double.IsFinite(settings.Temperature) || settings.Temperature < 0)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Temperature, "Temperature must be a finite number >= 0.");
    }

    /// <summary>Runs one request on a pool thread (GenAI's calls block), after the previous one has finished.</summary>
    private async Task<T> RunAsync<T>(Func<long, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var start = _time.GetTimestamp();
            return await Task.Run(() =>
            {
                try
                {
                    return work(start);
                }
                catch (OnnxRuntimeGenAIException ex)
                {
                    throw new BackendException($"Model '{_entry.Id}' ('{_folder.Folder}'): ONNX Runtime GenAI failed: {ex.Message}", ex);
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private GenerationResult Generate(GenerationRequest request, long start, CancellationToken cancellationToken)
    {
        var settings = request.Settings;
        if (settings.Grammar is not null)
        {
            throw new BackendException(
                $"Model '{_entry.Id}': the onnx-genai backend cannot constrain generation by a GBNF grammar (GenAI's guidance takes other grammar formats).");
        }

        var promptText = RenderPrompt(request.Prompt);
        var promptTokens = Tokenize(promptText, "prompt");
        using var generator = new OneGenerator(_model, _contextSize);
        var promptEvaluation = Append(generator, promptTokens);
        ReadLogits(generator, _logits, row: promptTokens.Length - 1, rows: promptTokens.Length, position: promptTokens.Length - 1);

        using var stream = _tokenizer.CreateStream();
        // A streaming detokenizer drops the leading space of a sequence's first token (Hugging Face's decoder does);
        // llama.cpp keeps it. Primed with the last prompt token, the first generated token is no longer first.
        _ = stream.Decode(promptTokens[^1]);
        var text = new StopSequenceText(settings.Stop);
        var random = settings.Temperature > 0 ? new Random(settings.Seed) : null;
        var position = promptTokens.Length;
        var generated = 0;
        var generation = TimeSpan.Zero;
        TimeSpan? timeToFirstToken = null;
        FinishReason finish;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var token = random is null
                ? LogitMath.ArgMax(_logits)
                : LogitMath.Sample(_logits, settings.Temperature, random, _sampleWeights);
            timeToFirstToken ??= _time.GetElapsedTime(start);

            if (_endOfGeneration.Contains(token))
            {
                finish = FinishReason.EndOfGeneration;
                break;
            }
            if (GenerationEnd.AfterKeptToken(Encoding.UTF8.GetBytes(stream.Decode(token)), text, ref generated, settings.MaxTokens, position, _contextSize) is { } end)
            {
                finish = end;
                break;
            }

            generation += Append(generator, [token]);
            ReadLogits(generator, _logits, row: 0, rows: 1, position);
            position++;
        }

        var total = _time.GetElapsedTime(start);
        return new GenerationResult(
            text.Finish(),
            finish,
            promptText,
            promptTokens.Length,
            generated,
            new RequestTimings(timeToFirstToken.Value, promptEvaluation, generation, total));
    }

    /// <summary>lm-eval's _encode_pair, through Core's <see cref="ContinuationSplit"/>: the same split on every runtime.</summary>
    private (string ContextText, int[] Context, int[][] Continuations) SplitForScoring(LogLikelihoodRequest request) =>
        ContinuationSplit.Split(
            RenderPrompt(request.Prompt), request.Continuations, context => Tokenize(context, "context"), Encode, _contextSize, _entry.Id);

    /// <summary>The token ids <see cref="ScoreContinuationsAsync"/> scores, for tests that compare them with llama.cpp's.</summary>
    internal Task<(ImmutableArray<int> Context, ImmutableArray<ImmutableArray<int>> Continuations)> TokenizeForScoringAsync(
        LogLikelihoodRequest request, CancellationToken cancellationToken) =>
        RunAsync(_ =>
        {
            var split = SplitForScoring(request);
            return (split.Context.ToImmutableArray(), split.Continuations.Select(c => c.ToImmutableArray()).ToImmutableArray());
        }, cancellationToken);

    /// <summary>GenAI's token ids of <paramref name="text"/>, as every request tokenizes it.</summary>
    internal Task<ImmutableArray<int>> TokenizeAsync(string text, CancellationToken cancellationToken) =>
        RunAsync(_ => Encode(text).ToImmutableArray(), cancellationToken);

    private LogLikelihoodResult Score(LogLikelihoodRequest request, long start, CancellationToken cancellationToken)
    {
        var (contextText, contextTokens, tokens) = SplitForScoring(request);
        var continuations = request.Continuations;
        using var generator = new OneGenerator(_model, _contextSize);
        var evaluation = Append(generator, contextTokens);
        // Every continuation's first token is predicted by the context's last position; the rest by their own tokens,
        // decoded after the context (which stays in the cache: each continuation rewinds to it).
        ReadLogits(generator, _contextLogits, row: contextTokens.Length - 1, rows: contextTokens.Length, contextTokens.Length - 1);
        var timeToFirstLogits = _time.GetElapsedTime(start);

        var scores = ImmutableArray.CreateBuilder<ContinuationScore>(continuations.Length);
        for (var i = 0; i < continuations.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var continuation = tokens[i];
            var logProbability = 0.0;
            var greedy = true;
            if (continuation.Length > 0)
                (logProbability, greedy) = LogitMath.LogProbability(_contextLogits, continuation[0]);
            if (continuation.Length > 1)
            {
                generator.Generator.RewindTo((ulong)contextTokens.Length);
                evaluation += Append(generator, continuation.AsSpan(0, continuation.Length - 1));
                for (var j = 0; j < continuation.Length - 1; j++)
                {
                    ReadLogits(generator, _logits, row: j, rows: continuation.Length - 1, contextTokens.Length + j);
                    var (lp, isArgMax) = LogitMath.LogProbability(_logits, continuation[j + 1]);
                    logProbability += lp;
                    greedy &= isArgMax;
                }
            }
            scores.Add(new ContinuationScore(
                continuations[i], logProbability, continuation.Length, Encoding.UTF8.GetByteCount(continuations[i]), greedy));
        }

        var total = _time.GetElapsedTime(start);
        return new LogLikelihoodResult(
            contextText,
            contextTokens.Length,
            scores.MoveToImmutable(),
            new RequestTimings(timeToFirstLogits, evaluation, TimeSpan.Zero, total));
    }

    private DistributionTrace Trace(DistributionTraceRequest request, long start, CancellationToken cancellationToken)
    {
        var promptText = request.PlainText ? request.Prompt.PlainText : RenderPrompt(request.Prompt);
        var text = promptText + (request.Continuation ?? "");
        var tokens = Tokenize(text, "text to trace");
        var positions = tokens.Length - 1;
        var probes = request.ProbeTokens.IsDefaultOrEmpty ? default : request.ProbeTokens;
        if (!probes.IsDefault && probes.Length != positions)
        {
            throw new BackendException(
                $"Model '{_entry.Id}': {probes.Length} probe lists for {positions} positions; the two models tokenize this text differently.");
        }

        var results = ImmutableArray.CreateBuilder<PositionDistribution>(Math.Max(0, positions));
        var evaluation = TimeSpan.Zero;
        TimeSpan? firstLogits = null;
        if (positions > 0)
        {
            using var generator = new OneGenerator(_model, _contextSize);
            // Logits are needed at every position except the last, whose successor is not in the text.
            evaluation = Append(generator, tokens.AsSpan(0, tokens.Length - 1));
            firstLogits = _time.GetElapsedTime(start);
            var top = new int[Math.Min(request.TopK, _logits.Length)];
            for (var position = 0; position < positions; position++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadLogits(generator, _logits, row: position, rows: positions, position);
                var probeIds = probes.IsDefault ? [] : probes[position];
                results.Add(LogitMath.Distribution(_logits, tokens[position + 1], top, probeIds.AsSpan(), _entry.Id));
            }
        }

        var total = _time.GetElapsedTime(start);
        return new DistributionTrace(text, [.. tokens], results.MoveToImmutable(), new RequestTimings(firstLogits ?? total, evaluation, TimeSpan.Zero, total));
    }

    private string RenderPrompt(RenderedPrompt prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (!_useChatTemplate)
            return prompt.PlainText;
        if (prompt.Messages.IsDefaultOrEmpty)
            throw new BackendException($"Model '{_entry.Id}': its chat template is in use but the prompt has no chat messages.");
        var messages = JsonSerializer.Serialize(prompt.Messages.Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content }));
        return _tokenizer.ApplyChatTemplate(_folder.ChatTemplate, messages, null, true);
    }

    private int[] Encode(string text)
    {
        using var sequences = _tokenizer.Encode(text);
        var tokens = sequences[0];
        if (_prependBos is not { } bos)
            return tokens.ToArray();
        var withBos = new int[tokens.Length + 1];
        withBos[0] = bos;
        tokens.CopyTo(withBos.AsSpan(1));
        return withBos;
    }

    /// <summary>Tokenizes a prompt and checks that it fits the context.</summary>
    private int[] Tokenize(string text, string what) => PromptTokens.Fitting(Encode(text), what, _contextSize, _entry.Id);

    /// <summary>Runs the model on <paramref name="tokens"/> after those already in the generator; returns the run's wall time.</summary>
    private TimeSpan Append(OneGenerator generator, ReadOnlySpan<int> tokens)
    {
        var start = _time.GetTimestamp();
        generator.Generator.AppendTokens(tokens);
        return _time.GetElapsedTime(start);
    }

    /// <summary>
    /// Copies logits row <paramref name="row"/> of the last run (which decoded <paramref name="rows"/> tokens) and rejects
    /// NaN/infinity, as the llama.cpp session does.
    /// </summary>
    private void ReadLogits(OneGenerator generator, float[] destination, int row, int rows, int position)
    {
        using var tensor = generator.Generator.GetOutput(_folder.LogitsOutput);
        var shape = tensor.Shape();
        if (shape.Length != 3 || shape[0] != 1 || shape[1] != rows)
        {
            throw new BackendException(
                $"Model '{_entry.Id}': the decoder's '{_folder.LogitsOutput}' output has shape [{string.Join(", ", shape)}], " +
                $"expected [1, {rows}, vocabulary]: a graph that returns only the last position's logits cannot be scored.");
        }

        var vocabulary = checked((int)shape[2]);
        if (vocabulary != destination.Length)
        {
            throw new BackendException(
                $"Model '{_entry.Id}': the decoder returns logits over {vocabulary} tokens but {OnnxGenAiFolder.ConfigFileName} gives model.vocab_size {destination.Length}.");
        }

        var offset = row * vocabulary;
        switch (tensor.Type())
        {
            case ElementType.float32:
                tensor.GetData<float>().Slice(offset, vocabulary).CopyTo(destination);
                break;
            case ElementType.float16:
                var halves = tensor.GetData<Half>().Slice(offset, vocabulary);
                for (var i = 0; i < vocabulary; i++)
                    destination[i] = (float)halves[i];
                break;
            default:
                throw new BackendException($"Model '{_entry.Id}': logits of type {tensor.Type()} are not supported (float32 or float16).");
        }

        if (!LogitMath.AllFinite(destination))
        {
            throw new BackendException(
                $"Model '{_entry.Id}' produced non-finite logits (NaN or infinity) at position {position}; the model in '{_folder.Folder}' is probably corrupt.",
                ItemFailureKind.ModelOutput);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // A request still running holds native objects: wait for it before freeing them.
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _tokenizer.Dispose();
            _model.Dispose();
            _config.Dispose();
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }

    /// <summary>A generator and the parameters it was made with (GenAI keeps a reference to them; both are native).</summary>
    private sealed class OneGenerator : IDisposable
    {
        private readonly GeneratorParams _parameters;

        public OneGenerator(Model model, int maxLength)
        {
            _parameters = new GeneratorParams(model);
            try
            {
                _parameters.SetSearchOption("max_length", maxLength);
                Generator = new Generator(model, _parameters);
            }
            catch
            {
                _parameters.Dispose();
                throw;
            }
        }

        public Generator Generator { get; }

        public void Dispose()
        {
            Generator.Dispose();
            _parameters.Dispose();
        }
    }
}
