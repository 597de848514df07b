using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Models;
using Harness.Core.Suites;
using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Extensions;
using LLama.Native;

namespace Harness.Backends.LlamaSharp;

/// <summary>
/// One loaded GGUF with one llama.cpp context. Every native call on the context runs on the session's
/// dedicated thread; the async methods only marshal requests there.
/// </summary>
internal sealed partial class LlamaSharpSession : IModelSession, ILogLikelihoodScorer, ITokenDistributionProbe
{
    private static readonly LLamaSeqId Sequence = LLamaSeqId.Zero;

    private readonly ModelEntry _model;
    private readonly string _modelPath;
    private readonly LLamaWeights _weights;
    private readonly SafeLLamaContextHandle _context;
    private readonly SafeLlamaModelHandle.Vocabulary _vocab;
    private readonly DedicatedThreadExecutor _executor;
    private readonly TimeProvider _time;
    private readonly string? _chatTemplate;
    private readonly bool _addBos;
    private readonly int _contextSize;
    private readonly int _batchSize;
    private readonly int _parallelSequences;

    // Reused across requests so the per-token loop does not allocate. Only touched on the dedicated thread.
    // Two batches: LLamaBatch pins its whole capacity on every decode, so single tokens get a small one.
    private readonly LLamaBatch _promptBatch = new();
    private readonly LLamaBatch _tokenBatch = new();
    private readonly float[] _logits;
    private readonly float[] _contextLogits;
    private readonly double[] _sampleWeights;
    private byte[] _piece = new byte[64];
    private int _disposed;

    private LlamaSharpSession(
        ModelEntry model,
        string modelPath,
        LLamaWeights weights,
        SafeLLamaContextHandle context,
        DedicatedThreadExecutor executor,
        TimeProvider time,
        string? chatTemplate,
        ModelLoadInfo loadInfo)
    {
        _model = model;
        _modelPath = modelPath;
        _weights = weights;
        _context = context;
        _vocab = weights.NativeHandle.Vocab;
        _executor = executor;
        _time = time;
        _chatTemplate = chatTemplate;
        _addBos = _vocab.ShouldAddBOS;
        _parallelSequences = checked((int)context.MaxSeq);
        // Not unified: every sequence has its own KV stream of an equal share of the context.
        _contextSize = checked((int)context.ContextSize) / _parallelSequences;
        _batchSize = checked((int)context.BatchSize);
        _logits = new float[_vocab.Count];
        _contextLogits = new float[_vocab.Count];
        _sampleWeights = new double[_vocab.Count];
        LoadInfo = loadInfo;
    }

    public ModelLoadInfo LoadInfo { get; }

    internal static async Task<LlamaSharpSession> CreateAsync(
        ModelEntry model,
        string modelPath,
        long fileSizeBytes,
        LLamaWeights weights,
        ModelParams parameters,
        string parallelRequested,
        LlamaNativeInfo native,
        TimeProvider time,
        long loadStartTimestamp,
        CancellationToken cancellationToken)
    {
        var executor = new DedicatedThreadExecutor($"llama:{model.Id}");
        try
        {
            return await executor.InvokeAsync(_ =>
            {
                var context = CreateContext(model, modelPath, weights, parameters);
                try
                {
                    var (chatTemplate, templateMode) = ChooseChatTemplate(model, modelPath, weights);
                    var loadTime = time.GetElapsedTime(loadStartTimestamp);
                    using var process = Process.GetCurrentProcess();
                    var loadInfo = new ModelLoadInfo(
                        Backend: "llamasharp",
                        LoadTime: loadTime,
                        FileSizeBytes: fileSizeBytes,
                        ResidentMemoryAfterLoadBytes: process.WorkingSet64,
                        ChatTemplate: templateMode,
                        EffectiveSettings: EffectiveSettings(model, weights, context, templateMode, parallelRequested),
                        Versions: native.ToVersions(),
                        ParallelSequences: checked((int)context.MaxSeq));
                    return new LlamaSharpSession(model, modelPath, weights, context, executor, time, chatTemplate, loadInfo);
                }
                catch
                {
                    context.Dispose();
                    throw;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            executor.Dispose();
            throw;
        }
    }

    private static SafeLLamaContextHandle CreateContext(ModelEntry model, string modelPath, LLamaWeights weights, ModelParams parameters)
    {
        parameters.ToLlamaContextParams(out var contextParams);
        // llama.cpp's defaults switch its perf counters off; prompt and generation times come from them.
        contextParams.no_perf = false;
        SafeLLamaContextHandle context;
        try
        {
            context = SafeLLamaContextHandle.Create(weights.NativeHandle, contextParams);
        }
        catch (RuntimeError ex)
        {
            throw new ModelLoadException(
                $"Model '{model.Id}': llama.cpp could not create a context for '{modelPath}' (context size {parameters.ContextSize}, batch size {parameters.BatchSize}): {ex.Message}", ex);
        }

        if (context.IsInvalid)
        {
            // Create() took a reference on the model that only a valid handle's release would give back.
            weights.NativeHandle.DangerousRelease();
            context.Dispose();
            throw new ModelLoadException(
                $"Model '{model.Id}': llama.cpp returned no context for '{modelPath}' (context size {parameters.ContextSize}, batch size {parameters.BatchSize}, " +
                $"gpu layers {parameters.GpuLayerCount}); the size is probably too large for the available memory.");
        }
        return context;
    }

    private static (string? Template, string Mode) ChooseChatTemplate(ModelEntry model, string modelPath, LLamaWeights weights)
    {
        if (model.Backend.ChatTemplate == ChatTemplateMode.None)
            return (null, "none");

        var template = weights.NativeHandle.GetTemplate(name: null, strict: false);
        if (string.IsNullOrEmpty(template))
            return (null, "auto->none (no template in GGUF)");

        // llama.cpp only renders templates it recognises; find out now rather than on the first item.
        try
        {
            var probe = new LLamaTemplate(template) { AddAssistant = true };
            probe.Add("user", "probe");
            _ = probe.Apply();
        }
        catch (RuntimeError ex)
        {
            throw new ModelLoadException(
                $"Model '{model.Id}': the chat template in '{modelPath}' is not one llama.cpp can apply ({ex.Message}). " +
                "Set chat_template: none for this model to feed plain text instead.", ex);
        }
        return (template, "gguf");
    }

    private static ImmutableSortedDictionary<string, string> EffectiveSettings(
        ModelEntry model, LLamaWeights weights, SafeLLamaContextHandle context, string templateMode, string parallelRequested)
    {
        static string I(long value) => value.ToString(CultureInfo.InvariantCulture);
        static string B(bool value) => value ? "true" : "false";
        var vocab = weights.NativeHandle.Vocab;
        return ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["context_size"] = I(context.ContextSize / context.MaxSeq),
            ["context_size_total"] = I(context.ContextSize),
            ["parallel_sequences"] = I(context.MaxSeq),
            ["parallel_sequences_requested"] = parallelRequested,
            ["context_size_requested"] = I(model.Backend.ContextSize),
            ["context_size_trained"] = I(weights.ContextSize),
            ["batch_size"] = I(context.BatchSize),
            ["ubatch_size"] = I(context.UBatchSize),
            ["threads"] = I(context.GenerationThreads),
            ["batch_threads"] = I(context.BatchThreads),
            ["gpu_layers"] = I(model.Backend.GpuLayers),
            ["gpu_offload_supported"] = B(NativeApi.llama_supports_gpu_offload()),
            ["seq_max"] = I(context.MaxSeq),
            ["kv_unified"] = "false",
            // LLamaSharp's ModelParams default: the weights are read into memory, not mmap'ed (the raw C reference matches it).
            ["load_mode"] = "read (no mmap)",
            ["kv_type_k"] = "f16",
            ["kv_type_v"] = "f16",
            ["flash_attention"] = "auto",
            ["perf_counters"] = "true",
            ["chat_template_mode"] = model.Backend.ChatTemplate == ChatTemplateMode.None ? "none" : "auto",
            ["chat_template_used"] = templateMode,
            ["add_bos"] = B(vocab.ShouldAddBOS),
            ["parse_special_in_prompt"] = B(templateMode == "gguf"),
            ["detokenize_special"] = "false",
            ["sampler"] = "temperature 0: argmax (lowest id on ties); otherwise softmax(logits/T) with Random(seed)",
            ["vocab_size"] = I(vocab.Count),
            ["model_parameters"] = I((long)weights.ParameterCount),
        });
    }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ValidateSettings(request.Settings);
        var start = _time.GetTimestamp();
        return _executor.InvokeAsync(token => Generate(request, start, token), cancellationToken);
    }

    private static void ValidateSettings(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MaxTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxTokens, "MaxTokens must be at least 1.");
        if (!double.IsFinite(settings.Temperature) || settings.Temperature < 0)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Temperature, "Temperature must be a finite number >= 0.");
    }

    public Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (request.Continuations.IsDefault)
            throw new ArgumentException("Continuations must not be a default ImmutableArray.", nameof(request));

        var start = _time.GetTimestamp();
        return _executor.InvokeAsync(token => Score(request, start, token), cancellationToken);
    }

    private GenerationResult Generate(GenerationRequest request, long start, CancellationToken cancellationToken)
    {
        var settings = request.Settings;
        var (promptText, parseSpecial) = RenderPrompt(request.Prompt);
        var promptTokens = Tokenize(promptText, parseSpecial, "prompt");
        var logitsIndex = DecodeFreshPrompt(promptTokens, cancellationToken);

        var text = new StopSequenceText(settings.Stop);
        var random = settings.Temperature > 0 ? new Random(settings.Seed) : null;
        using var grammar = settings.Grammar is null ? null : new GrammarConstraint(_weights.NativeHandle, settings.Grammar, _model.Id);
        var position = promptTokens.Length;
        var generated = 0;
        TimeSpan? timeToFirstToken = null;
        FinishReason finish;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CopyLogits(logitsIndex, _logits, position - 1);
            grammar?.Mask(_logits);
            var token = random is null
                ? LogitMath.ArgMax(_logits)
                : LogitMath.Sample(_logits, settings.Temperature, random, _sampleWeights);
            grammar?.Accept(token);
            timeToFirstToken ??= _time.GetElapsedTime(start);

            if (((LLamaToken)token).IsEndOfGeneration(_vocab))
            {
                finish = FinishReason.EndOfGeneration;
                break;
            }
            if (GenerationEnd.AfterKeptToken(Piece(token), text, ref generated, settings.MaxTokens, position, _contextSize) is { } end)
            {
                finish = end;
                break;
            }

            _tokenBatch.Clear();
            _tokenBatch.Add(token, position, Sequence, logits: true);
            var result = _context.Decode(_tokenBatch);
            if (result == DecodeResult.NoKvSlot)
            {
                finish = FinishReason.ContextFull;
                break;
            }
            if (result != DecodeResult.Ok)
                throw DecodeFailed(result, $"generated token {generated} at position {position}");
            position++;
            logitsIndex = 0;
        }

        var perf = _context.GetTimings();
        var total = _time.GetElapsedTime(start);
        return new GenerationResult(
            text.Finish(),
            finish,
            promptText,
            promptTokens.Length,
            generated,
            new RequestTimings(timeToFirstToken.Value, perf.PromptEval, perf.Eval, total));
    }

    public Task<DistributionTrace> TraceAsync(DistributionTraceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (request.TopK < 1)
            throw new ArgumentOutOfRangeException(nameof(request), request.TopK, "TopK must be at least 1.");

        var start = _time.GetTimestamp();
        return _executor.InvokeAsync(token => Trace(request, start, token), cancellationToken);
    }

    private DistributionTrace Trace(DistributionTraceRequest request, long start, CancellationToken cancellationToken)
    {
        var (promptText, parseSpecial) = request.PlainText ? (request.Prompt.PlainText, false) : RenderPrompt(request.Prompt);
        var text = promptText + (request.Continuation ?? "");
        var tokens = Tokenize(text, parseSpecial, "text to trace");
        var positions = tokens.Length - 1;
        var probes = request.ProbeTokens.IsDefaultOrEmpty ? default : request.ProbeTokens;
        if (!probes.IsDefault && probes.Length != positions)
        {
            throw new BackendException(
                $"Model '{_model.Id}': {probes.Length} probe lists for {positions} positions; the two models tokenize this text differently.");
        }

        var k = Math.Min(request.TopK, _logits.Length);
        var top = new int[k];
        var results = ImmutableArray.CreateBuilder<PositionDistribution>(Math.Max(0, positions));
        _context.MemoryClear(data: false);
        _context.ResetTimings();
        TimeSpan? firstLogits = null;
        // Logits are needed at every position except the last, whose successor is not in the text.
        for (var chunkStart = 0; chunkStart < positions; chunkStart += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(_batchSize, positions - chunkStart);
            _promptBatch.Clear();
            for (var j = 0; j < count; j++)
                _promptBatch.Add(tokens[chunkStart + j], chunkStart + j, Sequence, logits: true);
            var result = _context.Decode(_promptBatch);
            if (result != DecodeResult.Ok)
                throw DecodeFailed(result, $"traced tokens {chunkStart}..{chunkStart + count - 1}");
            firstLogits ??= _time.GetElapsedTime(start);

            for (var j = 0; j < count; j++)
            {
                var position = chunkStart + j;
                CopyLogits(j, _logits, position);
                var probeIds = probes.IsDefault ? [] : probes[position];
                results.Add(LogitMath.Distribution(_logits, (int)tokens[position + 1], top, probeIds.AsSpan(), _model.Id));
            }
        }

        var perf = _context.GetTimings();
        var total = _time.GetElapsedTime(start);
        return new DistributionTrace(
            text,
            [.. tokens.Select(t => (int)t)],
            results.MoveToImmutable(),
            new RequestTimings(firstLogits ?? total, perf.PromptEval, perf.Eval, total));
    }

    /// <summary>
    /// The context text and the token ids that <see cref="ScoreContinuationsAsync"/> scores, for tests that check them
    /// against lm-eval's recipe worked by hand.
    /// </summary>
    internal Task<ScoringTokens> TokenizeForScoringAsync(LogLikelihoodRequest request, CancellationToken cancellationToken) =>
        _executor.InvokeAsync(_ =>
        {
            var split = SplitForScoring(request);
            return new ScoringTokens(split.ContextText, [.. split.Context.Select(t => (int)t)],
                [.. split.Continuations.Select(c => c.Select(t => (int)t).ToImmutableArray())]);
        }, cancellationToken);

    /// <summary>lm-eval's _encode_pair, through Core's <see cref="ContinuationSplit"/>: the same split on every runtime.</summary>
    private (string ContextText, LLamaToken[] Context, LLamaToken[][] Continuations) SplitForScoring(LogLikelihoodRequest request)
    {
        var (renderedText, parseSpecial) = RenderPrompt(request.Prompt);
        return ContinuationSplit.Split(
            renderedText, request.Continuations,
            context => Tokenize(context, parseSpecial, "context"),
            whole => _context.Tokenize(whole, _addBos, parseSpecial, Encoding.UTF8),
            _contextSize, _model.Id);
    }

    private LogLikelihoodResult Score(LogLikelihoodRequest request, long start, CancellationToken cancellationToken)
    {
        var (contextText, contextTokens, tokens) = SplitForScoring(request);
        var continuations = request.Continuations;
        var lastIndex = DecodeFreshPrompt(contextTokens, cancellationToken);
        // The next decode overwrites these logits, and every continuation needs them for its first token.
        CopyLogits(lastIndex, _contextLogits, contextTokens.Length - 1);
        var timeToFirstLogits = _time.GetElapsedTime(start);

        // Prefix reuse: the context is decoded once on sequence 0. Up to ParallelSequences continuations at a time
        // each get a copy of it (their own sequence) and all their tokens go through the same batches.
        var logProbabilities = new double[continuations.Length];
        var greedy = new bool[continuations.Length];
        for (var i = 0; i < continuations.Length; i++)
        {
            greedy[i] = true;
            if (tokens[i].Length > 0)
                (logProbabilities[i], greedy[i]) = LogitMath.LogProbability(_contextLogits, (int)tokens[i][0]);
        }

        var rowContinuation = new int[_batchSize];
        var rowToken = new int[_batchSize];
        for (var groupStart = 0; groupStart < continuations.Length; groupStart += _parallelSequences)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var groupSize = Math.Min(_parallelSequences, continuations.Length - groupStart);
            // Sequence 0 keeps the context and drops the previous group's continuation; the others copy it.
            _context.MemorySequenceRemove(Sequence, contextTokens.Length, -1);
            for (var member = 1; member < groupSize; member++)
                _context.MemorySequenceCopy(Sequence, (LLamaSeqId)member, -1, -1);

            _promptBatch.Clear();
            for (var member = 0; member < groupSize; member++)
            {
                var i = groupStart + member;
                for (var j = 0; j < tokens[i].Length - 1; j++)
                {
                    if (_promptBatch.TokenCount == _batchSize)
                        DecodeContinuationRows(rowContinuation, rowToken, tokens, contextTokens.Length, logProbabilities, greedy, cancellationToken);
                    var row = _promptBatch.Add(tokens[i][j], contextTokens.Length + j, (LLamaSeqId)member, logits: true);
                    rowContinuation[row] = i;
                    rowToken[row] = j;
                }
            }
            if (_promptBatch.TokenCount > 0)
                DecodeContinuationRows(rowContinuation, rowToken, tokens, contextTokens.Length, logProbabilities, greedy, cancellationToken);
        }

        var scores = ImmutableArray.CreateBuilder<ContinuationScore>(continuations.Length);
        for (var i = 0; i < continuations.Length; i++)
        {
            scores.Add(new ContinuationScore(
                continuations[i], logProbabilities[i], tokens[i].Length, Encoding.UTF8.GetByteCount(continuations[i]), greedy[i]));
        }

        var perf = _context.GetTimings();
        var total = _time.GetElapsedTime(start);
        return new LogLikelihoodResult(
            contextText,
            contextTokens.Length,
            scores.MoveToImmutable(),
            new RequestTimings(timeToFirstLogits, perf.PromptEval, perf.Eval, total));
    }

    /// <summary>
    /// Decodes the pending batch of continuation tokens and adds, for each row, the log-probability of the
    /// continuation's next token; then clears the batch.
    /// </summary>
    private void DecodeContinuationRows(
        int[] rowContinuation, int[] rowToken, LLamaToken[][] tokens, int contextLength, double[] logProbabilities, bool[] greedy,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var result = _context.Decode(_promptBatch);
        if (result == DecodeResult.NoKvSlot)
        {
            throw new BackendException(
                $"Model '{_model.Id}': no KV slot for {_promptBatch.TokenCount} continuation tokens after a context of {contextLength} " +
                $"(context size {_contextSize} per sequence).", ItemFailureKind.ContextOverflow);
        }
        if (result != DecodeResult.Ok)
            throw DecodeFailed(result, $"{_promptBatch.TokenCount} continuation tokens after position {contextLength}");

        for (var row = 0; row < _promptBatch.TokenCount; row++)
        {
            var i = rowContinuation[row];
            var j = rowToken[row];
            CopyLogits(row, _logits, contextLength + j);
            var (lp, isArgMax) = LogitMath.LogProbability(_logits, (int)tokens[i][j + 1]);
            logProbabilities[i] += lp;
            greedy[i] &= isArgMax;
        }
        _promptBatch.Clear();
    }

    /// <summary>Tokenizes a prompt (BOS as the vocabulary says) and checks that it fits the context.</summary>
    private LLamaToken[] Tokenize(string text, bool parseSpecial, string what) =>
        PromptTokens.Fitting(_context.Tokenize(text, _addBos, parseSpecial, Encoding.UTF8), what, _contextSize, _model.Id);

    private (string Text, bool ParseSpecial) RenderPrompt(RenderedPrompt prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (_chatTemplate is null)
            return (prompt.PlainText, false);

        if (prompt.Messages.IsDefaultOrEmpty)
            throw new BackendException($"Model '{_model.Id}': its chat template is in use but the prompt has no chat messages.");
        var template = new LLamaTemplate(_chatTemplate) { AddAssistant = true };
        foreach (var message in prompt.Messages)
            template.Add(message.Role, message.Content);
        return (Encoding.UTF8.GetString(template.Apply()), true);
    }

    /// <summary>
    /// Resets the KV cache and perf counters, then decodes the tokens from position 0 in chunks of the batch
    /// size. Returns the batch index holding the last token's logits.
    /// </summary>
    private int DecodeFreshPrompt(LLamaToken[] tokens, CancellationToken cancellationToken)
    {
        // Metadata-only clear: freed cells are never read, and zeroing a large KV buffer per item costs real time.
        _context.MemoryClear(data: false);
        _context.ResetTimings();
        for (var chunkStart = 0; chunkStart < tokens.Length; chunkStart += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(_batchSize, tokens.Length - chunkStart);
            _promptBatch.Clear();
            _promptBatch.AddRange(tokens.AsSpan(chunkStart, count), chunkStart, Sequence, logitsLast: chunkStart + count == tokens.Length);
            var result = _context.Decode(_promptBatch);
            if (result == DecodeResult.NoKvSlot)
            {
                throw new BackendException(
                    $"Model '{_model.Id}': the prompt of {tokens.Length} tokens does not fit the context of {_contextSize} " +
                    $"(no KV slot for tokens {chunkStart}..{chunkStart + count - 1}).", ItemFailureKind.ContextOverflow);
            }
            if (result != DecodeResult.Ok)
                throw DecodeFailed(result, $"prompt tokens {chunkStart}..{chunkStart + count - 1}");
        }
        return _promptBatch.TokenCount - 1;
    }

    /// <summary>Copies one logits row out of native memory (the next decode overwrites it) and rejects NaN/infinity.</summary>
    private void CopyLogits(int batchIndex, float[] destination, int position)
    {
        _context.GetLogitsIth(batchIndex).CopyTo(destination);
        if (!LogitMath.AllFinite(destination))
        {
            throw new BackendException(
                $"Model '{_model.Id}' produced non-finite logits (NaN or infinity) at position {position}; the file '{_modelPath}' is probably corrupt.", ItemFailureKind.ModelOutput);
        }
    }

    private ReadOnlySpan<byte> Piece(int token)
    {
        var length = checked((int)_weights.NativeHandle.TokenToSpan(token, _piece, lstrip: 0, special: false));
        if (length > _piece.Length)
        {
            _piece = new byte[length * 2];
            length = checked((int)_weights.NativeHandle.TokenToSpan(token, _piece, lstrip: 0, special: false));
        }
        return _piece.AsSpan(0, length);
    }

    // Builds the message only on failure: the per-token loop must not format strings.
    private BackendException DecodeFailed(DecodeResult result, string what) =>
        new($"Model '{_model.Id}': llama_decode failed with {result} on {what} (context size {_contextSize}).");

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            // The context was created on the dedicated thread and is freed there too.
            await _executor.InvokeAsync(_ =>
            {
                _context.Dispose();
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _executor.Dispose();
            _weights.Dispose();
        }
    }
}

/// <summary>What a log-likelihood request is scored on: the context after its trailing whitespace moved, and token ids.</summary>
internal sealed record ScoringTokens(string ContextText, ImmutableArray<int> ContextTokens, ImmutableArray<ImmutableArray<int>> ContinuationTokens);
