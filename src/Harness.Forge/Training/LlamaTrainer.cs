using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Harness.Core.Gguf;
using Harness.Forge.Native;

namespace Harness.Forge.Training;

/// <summary>
/// Trains a llama-architecture model from scratch with ggml-opt (AdamW, cross-entropy) on the ggml that LLamaSharp
/// ships. The forward graph is llama.cpp's llama math: token_embd get_rows; per block RMSNorm, Q/K/V, rope (normal
/// mode, adjacent pairs), causal softmax attention scaled by 1/sqrt(head dim), output projection, residual,
/// RMSNorm, SwiGLU FFN, residual; final RMSNorm and output matmul. Not thread-safe; one run per instance.
/// </summary>
public sealed class LlamaTrainer : IDisposable
{
    private const int RopeModeNormal = 0;
    private const int GraphSize = 16384;

    private readonly LlamaTrainingOptions _options;
    private readonly CharVocabulary _vocabulary;
    private readonly TimeProvider _time;
    private readonly int _rows, _width, _vocab;
    private readonly float _smoothing;
    private readonly IntPtr _backend, _sched, _paramsContext, _computeContext, _paramsBuffer, _opt, _result;
    private readonly IntPtr _tokens, _positions, _lossMask, _logits;
    private readonly IntPtr _tokenEmbedding, _outputNorm, _output;
    private readonly ImmutableArray<BlockTensors> _blocks;
    private readonly unsafe GgmlOptOptimizerParams* _optimizerParams;
    private readonly float[] _labels;
    private readonly int[] _inputTokens;
    private readonly float[] _maskValues;
    private InferenceGraph? _inference;
    private int _stepsDone;
    private bool _disposed;

    /// <summary>Builds the graph and initializes the weights from <paramref name="random"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="DllNotFoundException">The shipped ggml is missing.</exception>
    public LlamaTrainer(LlamaTrainingOptions options, CharVocabulary vocabulary, Random random, TimeProvider time)
    {
        options.Validate();
        _options = options;
        _vocabulary = vocabulary;
        _time = time;
        GgmlLibrary.EnsureLoaded();

        var h = options.Hyperparameters;
        _width = options.SequenceLength;
        _rows = options.BatchSize;
        _vocab = vocabulary.Count;
        _smoothing = options.LabelSmoothing;
        long tokensPerBatch = (long)_width * _rows;
        _labels = new float[_vocab * tokensPerBatch];
        _inputTokens = new int[tokensPerBatch];
        _maskValues = new float[tokensPerBatch];

        try
        {
            _backend = Ggml.BackendCpuInit();
            if (_backend == IntPtr.Zero)
            {
                throw new InvalidOperationException("ggml_backend_cpu_init returned no backend.");
            }

            Ggml.BackendCpuSetThreads(_backend, options.Threads);
            unsafe
            {
                var backend = _backend;
                _sched = Ggml.BackendSchedNew((IntPtr)(&backend), IntPtr.Zero, 1, GraphSize, parallel: false, opOffload: false);
                _optimizerParams = (GgmlOptOptimizerParams*)NativeMemory.AllocZeroed((nuint)sizeof(GgmlOptOptimizerParams));
            }

            // Weights and inputs live in one statically allocated context; ggml-opt needs the inputs allocated before
            // ggml_opt_init, and everything else (activations, grads) is placed by its allocator.
            var tensorCount = 8 + (h.BlockCount * 9);
            _paramsContext = Ggml.Init(new GgmlInitParams { MemSize = Ggml.TensorOverhead() * (nuint)tensorCount, NoAlloc = 1 });
            _tokens = Named(Ggml.NewTensor1d(_paramsContext, GgmlTensorType.I32, tokensPerBatch), "tokens");
            Ggml.SetInput(_tokens);
            _positions = Named(Ggml.NewTensor1d(_paramsContext, GgmlTensorType.I32, _width), "positions");
            Ggml.SetInput(_positions);
            _lossMask = Named(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, 1, tokensPerBatch), "loss_mask");
            Ggml.SetInput(_lossMask);
            long embd = h.EmbeddingLength, ff = h.FeedForwardLength;
            _tokenEmbedding = Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, _vocab), "token_embd.weight");
            var blocks = ImmutableArray.CreateBuilder<BlockTensors>(h.BlockCount);
            for (var b = 0; b < h.BlockCount; b++)
            {
                var p = $"blk.{b}.";
                blocks.Add(new BlockTensors(
                    Parameter(Ggml.NewTensor1d(_paramsContext, GgmlTensorType.F32, embd), p + "attn_norm.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, embd), p + "attn_q.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, embd), p + "attn_k.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, embd), p + "attn_v.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, embd), p + "attn_output.weight"),
                    Parameter(Ggml.NewTensor1d(_paramsContext, GgmlTensorType.F32, embd), p + "ffn_norm.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, ff), p + "ffn_gate.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, ff), p + "ffn_up.weight"),
                    Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, ff, embd), p + "ffn_down.weight")));
            }

            _blocks = blocks.MoveToImmutable();
            _outputNorm = Parameter(Ggml.NewTensor1d(_paramsContext, GgmlTensorType.F32, embd), "output_norm.weight");
            _output = Parameter(Ggml.NewTensor2d(_paramsContext, GgmlTensorType.F32, embd, _vocab), "output.weight");
            _paramsBuffer = Ggml.BackendAllocContextTensors(_paramsContext, _backend);
            if (_paramsBuffer == IntPtr.Zero)
            {
                throw new InvalidOperationException("ggml could not allocate the weight buffer.");
            }

            InitializeWeights(random);
            var positions = Enumerable.Range(0, _width).ToArray();
            Set(_positions, positions);

            _computeContext = Ggml.Init(new GgmlInitParams
            {
                MemSize = (Ggml.TensorOverhead() * GraphSize) + (Ggml.GraphOverheadCustom(GraphSize, true) * 4),
                NoAlloc = 1,
            });
            // ggml's cross-entropy backward is softmax - labels for every row, so a row with all-zero labels (padding,
            // prompt tokens) would still push every logit down: the same hidden state each step, hence the same
            // sign, and AdamW turns that into a linear drift of every output weight (measured: all of output.weight
            // at ±15.5 after 10000 steps, and quantized copies at 0%). Multiplying those rows' logits by 0 makes
            // both their loss and their gradient exactly 0.
            _logits = Named(Ggml.Mul(_computeContext, BuildForward(_computeContext, _tokens, _rows), _lossMask), "masked_logits");
            Ggml.SetOutput(_logits);

            var parameters = Ggml.OptDefaultParams(_sched, GgmlOptLossType.CrossEntropy);
            parameters.CtxCompute = _computeContext;
            parameters.Inputs = _tokens;
            parameters.Outputs = _logits;
            parameters.BuildType = GgmlOptBuildType.Opt;
            parameters.OptPeriod = 1;
            parameters.Optimizer = GgmlOptOptimizerType.AdamW;
            parameters.GetOptPars = Ggml.ConstantOptimizerParamsCallback();
            unsafe
            {
                parameters.GetOptParsUserData = (IntPtr)_optimizerParams;
            }

            SetLearningRate(options.LearningRateAt(0));
            _opt = Ggml.OptInit(parameters);
            _result = Ggml.OptResultInit();
        }
        catch
        {
            // Free whatever native state was built before the failure; the caller never gets an instance to dispose.
            Dispose();
            throw;
        }
    }

    public LlamaTrainingOptions Options => _options;

    public CharVocabulary Vocabulary => _vocabulary;

    /// <summary>Optimizer steps taken so far.</summary>
    public int StepsDone => _stepsDone;

    /// <summary>
    /// Runs the remaining optimizer steps over <paramref name="documents"/>, shuffled each epoch by
    /// <paramref name="random"/>. On cancellation it stops between steps and throws; the last checkpoint stays intact
    /// (checkpoints are replaced atomically).
    /// </summary>
    /// <exception cref="ArgumentException">No documents, a document too long for the sequence length, or no target token.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the trainer stays usable.</exception>
    public TrainingSummary Train(
        IReadOnlyList<TrainingDocument> documents,
        Random random,
        IProgress<TrainingProgress>? progress,
        TrainingCheckpoint? checkpoint,
        CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckDocuments(documents);
        var order = Enumerable.Range(0, documents.Count).ToArray();
        var next = order.Length;
        var started = _time.GetTimestamp();
        var firstStep = _stepsDone;
        double? firstLoss = null, average = null;
        long targetTokens = 0;
        var batch = new TrainingDocument[_rows];
        while (_stepsDone < _options.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var r = 0; r < _rows; r++)
            {
                if (next == order.Length)
                {
                    random.Shuffle(order);
                    next = 0;
                }

                batch[r] = documents[order[next++]];
            }

            var targets = FillBatch(batch);
            targetTokens += targets;
            var learningRate = _options.LearningRateAt(_stepsDone);
            SetLearningRate(learningRate);
            Ggml.OptResultReset(_result);
            Ggml.OptAlloc(_opt, backward: true);
            Ggml.OptEval(_opt, _result);
            _stepsDone++;

            // ggml's cross-entropy is a mean over all rows of the batch, padding included; report nats per target.
            var loss = BatchLoss() * _width * _rows / targets;
            firstLoss ??= loss;
            average = average is { } a ? (0.98 * a) + (0.02 * loss) : loss;
            var elapsed = _time.GetElapsedTime(started);
            var done = _stepsDone - firstStep;
            var remaining = TimeSpan.FromTicks(elapsed.Ticks / done * (_options.Steps - _stepsDone));
            progress?.Report(new TrainingProgress(_stepsDone, _options.Steps, loss, average.Value, learningRate, elapsed, remaining));
            if (checkpoint is not null && _options.CheckpointEverySteps > 0 && _stepsDone % _options.CheckpointEverySteps == 0)
            {
                WriteGguf(checkpoint.Path, checkpoint.ModelName, GgmlType.F32,
                    [new("harness.train.checkpoint_step", GgufValue.UInt32((uint)_stepsDone))]);
            }
        }

        return new TrainingSummary(_stepsDone, firstLoss ?? double.NaN, average ?? double.NaN, _time.GetElapsedTime(started), targetTokens);
    }

    /// <summary>
    /// Next-token logits after every position of <paramref name="tokens"/> (at most the sequence length), computed
    /// by the training graph's forward pass.
    /// </summary>
    public float[][] Logits(IReadOnlyList<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tokens.Count == 0 || tokens.Count > _width)
        {
            throw new ArgumentException($"Need 1 to {_width} tokens, got {tokens.Count}.", nameof(tokens));
        }

        // ggml-opt computes on private copies of its graphs, so the training graph's logits tensor never holds data;
        // inference builds the same forward graph once more, one row wide, on its own allocator.
        var inference = _inference ??= InferenceGraph.Create(this);
        var input = new int[_width];
        Array.Fill(input, CharVocabulary.EosId);
        for (var i = 0; i < tokens.Count; i++)
        {
            input[i] = CheckToken(tokens[i]);
        }

        Set(inference.Tokens, input);
        var status = Ggml.BackendGraphCompute(_backend, inference.Graph);
        if (status != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"ggml_backend_graph_compute failed with status {status}."));
        }

        var logits = new float[tokens.Count * _vocab];
        Get(inference.Logits, logits);
        return [.. Enumerable.Range(0, tokens.Count).Select(i => logits.AsSpan(i * _vocab, _vocab).ToArray())];
    }

    /// <summary>The current weights, in <see cref="LlamaGgufWriter"/>'s layout (ggml's [in, out] is row-major [out][in]).</summary>
    public LlamaModelWeights Weights()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new LlamaModelWeights(
            Read(_tokenEmbedding),
            [.. _blocks.Select(b => new LlamaBlockWeights(
                Read(b.AttentionNorm), Read(b.Query), Read(b.Key), Read(b.Value), Read(b.AttentionOutput),
                Read(b.FeedForwardNorm), Read(b.Gate), Read(b.Up), Read(b.Down)))],
            Read(_outputNorm),
            Read(_output));
    }

    /// <summary>Writes the current model as a llama GGUF (atomically), with the training settings under <c>harness.train.*</c>.</summary>
    public void WriteGguf(string path, string name, GgmlType matrixType, IEnumerable<GgufMetadataEntry> extraMetadata)
    {
        var metadata = _options.Describe()
            .Select(kv => new GgufMetadataEntry("harness.train." + kv.Key, GgufValue.String(kv.Value)))
            .Append(new GgufMetadataEntry("harness.train.steps_done", GgufValue.UInt32((uint)_stepsDone)))
            .Concat(extraMetadata);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        LlamaGgufWriter.WriteFile(path, name, _options.Hyperparameters, _vocabulary, Weights(), matrixType, metadata);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _inference?.Dispose();
        FreeIfSet(_result, Ggml.OptResultFree);
        FreeIfSet(_opt, Ggml.OptFree);
        FreeIfSet(_computeContext, Ggml.Free);
        FreeIfSet(_paramsBuffer, Ggml.BackendBufferFree);
        FreeIfSet(_paramsContext, Ggml.Free);
        FreeIfSet(_sched, Ggml.BackendSchedFree);
        FreeIfSet(_backend, Ggml.BackendFree);
        unsafe
        {
            NativeMemory.Free(_optimizerParams);
        }

        static void FreeIfSet(IntPtr handle, Action<IntPtr> free)
        {
            if (handle != IntPtr.Zero)
            {
                free(handle);
            }
        }
    }

    /// <summary>The llama forward graph over <paramref name="rows"/> rows of <c>SequenceLength</c> tokens each.</summary>
    private IntPtr BuildForward(IntPtr ctx, IntPtr tokens, int rows)
    {
        var h = _options.Hyperparameters;
        long embd = h.EmbeddingLength, headDim = h.HeadDimension, heads = h.HeadCount, n = (long)_width * rows;
        var scale = 1f / MathF.Sqrt(headDim);
        var x = Ggml.GetRows(ctx, _tokenEmbedding, tokens);
        foreach (var block in _blocks)
        {
            var cur = Ggml.Mul(ctx, Ggml.RmsNorm(ctx, x, h.RmsNormEpsilon), block.AttentionNorm);
            var q = Rope(Ggml.Reshape4d(ctx, Ggml.MulMat(ctx, block.Query, cur), headDim, heads, _width, rows));
            var k = Rope(Ggml.Reshape4d(ctx, Ggml.MulMat(ctx, block.Key, cur), headDim, heads, _width, rows));
            var v = Ggml.Reshape4d(ctx, Ggml.MulMat(ctx, block.Value, cur), headDim, heads, _width, rows);

            // [head dim, position, head, row]: per (head, row) the scores are K^T Q, [key position, query position].
            var qh = Ggml.Cont(ctx, Ggml.Permute(ctx, q, 0, 2, 1, 3));
            var kh = Ggml.Cont(ctx, Ggml.Permute(ctx, k, 0, 2, 1, 3));
            var scores = Ggml.DiagMaskInf(ctx, Ggml.MulMat(ctx, kh, qh), 0);
            var weights = Ggml.SoftMaxExt(ctx, scores, IntPtr.Zero, scale, 0f);
            var vt = Ggml.Cont(ctx, Ggml.Permute(ctx, v, 1, 2, 0, 3));
            var attended = Ggml.MulMat(ctx, vt, weights);
            var merged = Ggml.Reshape2d(ctx, Ggml.Cont(ctx, Ggml.Permute(ctx, attended, 0, 2, 1, 3)), embd, n);
            x = Ggml.Add(ctx, x, Ggml.MulMat(ctx, block.AttentionOutput, merged));

            cur = Ggml.Mul(ctx, Ggml.RmsNorm(ctx, x, h.RmsNormEpsilon), block.FeedForwardNorm);
            var gate = Ggml.Silu(ctx, Ggml.MulMat(ctx, block.Gate, cur));
            var hidden = Ggml.Mul(ctx, gate, Ggml.MulMat(ctx, block.Up, cur));
            x = Ggml.Add(ctx, x, Ggml.MulMat(ctx, block.Down, hidden));
        }

        var final = Ggml.Mul(ctx, Ggml.RmsNorm(ctx, x, h.RmsNormEpsilon), _outputNorm);
        return Named(Ggml.MulMat(ctx, _output, final), "logits");

        IntPtr Rope(IntPtr t) => Ggml.RopeExt(ctx, t, _positions, IntPtr.Zero, (int)headDim, RopeModeNormal, h.ContextLength,
            h.RopeFreqBase, 1f, 0f, 1f, 32f, 1f);
    }

    private void InitializeWeights(Random random)
    {
        var std = _options.InitStandardDeviation;
        var residualStd = std / MathF.Sqrt(2f * _blocks.Length);
        Set(_tokenEmbedding, Normal(_tokenEmbedding, std));
        foreach (var block in _blocks)
        {
            Set(block.AttentionNorm, Ones(block.AttentionNorm));
            Set(block.Query, Normal(block.Query, std));
            Set(block.Key, Normal(block.Key, std));
            Set(block.Value, Normal(block.Value, std));
            Set(block.AttentionOutput, Normal(block.AttentionOutput, residualStd));
            Set(block.FeedForwardNorm, Ones(block.FeedForwardNorm));
            Set(block.Gate, Normal(block.Gate, std));
            Set(block.Up, Normal(block.Up, std));
            Set(block.Down, Normal(block.Down, residualStd));
        }

        Set(_outputNorm, Ones(_outputNorm));
        Set(_output, Normal(_output, std));

        float[] Ones(IntPtr t)
        {
            var values = new float[Ggml.NElements(t)];
            Array.Fill(values, 1f);
            return values;
        }

        float[] Normal(IntPtr t, float deviation)
        {
            var values = new float[Ggml.NElements(t)];
            for (var i = 0; i < values.Length; i += 2)
            {
                // Box-Muller: two independent normals from two uniforms.
                var u1 = 1.0 - random.NextDouble();
                var u2 = random.NextDouble();
                var radius = Math.Sqrt(-2.0 * Math.Log(u1));
                values[i] = (float)(deviation * radius * Math.Cos(2 * Math.PI * u2));
                if (i + 1 < values.Length)
                {
                    values[i + 1] = (float)(deviation * radius * Math.Sin(2 * Math.PI * u2));
                }
            }

            return values;
        }
    }

    /// <summary>Writes the batch's tokens and one-hot labels; returns the number of target positions.</summary>
    private long FillBatch(TrainingDocument[] batch)
    {
        Array.Fill(_inputTokens, CharVocabulary.EosId);
        Array.Clear(_labels);
        Array.Clear(_maskValues);
        long targets = 0;
        for (var r = 0; r < batch.Length; r++)
        {
            var tokens = batch[r].Tokens;
            for (var i = 0; i < tokens.Length - 1; i++)
            {
                var row = (r * _width) + i;
                _inputTokens[row] = tokens[i];
                if (i + 1 >= batch[r].LossStart)
                {
                    _maskValues[row] = 1f;
                    // Rows without a label stay all-zero and add nothing to the cross-entropy.
                    var offset = (long)row * _vocab;
                    if (_smoothing > 0)
                    {
                        Array.Fill(_labels, _smoothing / _vocab, (int)offset, _vocab);
                    }

                    _labels[offset + tokens[i + 1]] += 1f - _smoothing;
                    targets++;
                }
            }
        }

        Set(_tokens, _inputTokens);
        Set(_lossMask, _maskValues);
        Set(Ggml.OptLabels(_opt), _labels);
        return targets;
    }

    private void CheckDocuments(IReadOnlyList<TrainingDocument> documents)
    {
        if (documents.Count == 0)
        {
            throw new ArgumentException("No training documents.", nameof(documents));
        }

        for (var d = 0; d < documents.Count; d++)
        {
            var document = documents[d];
            if (document.Tokens.Length > _width + 1)
            {
                throw new ArgumentException(
                    $"Training document {d} has {document.Tokens.Length} tokens; the sequence length {_width} fits at most {_width + 1}.", nameof(documents));
            }

            if (document.LossStart < 1 || document.LossStart >= document.Tokens.Length)
            {
                throw new ArgumentException($"Training document {d} has no target token (loss start {document.LossStart}, {document.Tokens.Length} tokens).", nameof(documents));
            }

            foreach (var token in document.Tokens)
            {
                CheckToken(token);
            }
        }
    }

    private int CheckToken(int token) =>
        token >= 0 && token < _vocab ? token : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Token {token} is outside the vocabulary of {_vocab}."));

    private unsafe void SetLearningRate(float learningRate)
    {
        *_optimizerParams = new GgmlOptOptimizerParams
        {
            AdamWAlpha = learningRate,
            AdamWBeta1 = _options.Beta1,
            AdamWBeta2 = _options.Beta2,
            AdamWEps = LlamaTrainingOptions.Epsilon,
            AdamWWeightDecay = _options.WeightDecay,
            SgdAlpha = learningRate,
            SgdWeightDecay = _options.WeightDecay,
        };
    }

    private unsafe double BatchLoss()
    {
        double loss, uncertainty;
        Ggml.OptResultLoss(_result, &loss, &uncertainty);
        return loss;
    }

    private static IntPtr Named(IntPtr tensor, string name)
    {
        Ggml.SetName(tensor, name);
        return tensor;
    }

    private static IntPtr Parameter(IntPtr tensor, string name)
    {
        Ggml.SetParam(tensor);
        return Named(tensor, name);
    }

    private static ImmutableArray<float> Read(IntPtr tensor)
    {
        var values = new float[Ggml.NElements(tensor)];
        Get(tensor, values);
        return ImmutableArray.Create(values);
    }

    private static unsafe void Set<T>(IntPtr tensor, T[] values)
        where T : unmanaged
    {
        var bytes = (nuint)(values.LongLength * sizeof(T));
        if (bytes != Ggml.NBytes(tensor))
        {
            throw new InvalidOperationException($"Tensor of {Ggml.NBytes(tensor)} bytes set from {bytes} bytes.");
        }

        fixed (T* data = values)
        {
            Ggml.BackendTensorSet(tensor, (IntPtr)data, 0, bytes);
        }
    }

    private static unsafe void Get(IntPtr tensor, float[] values)
    {
        var bytes = (nuint)(values.LongLength * sizeof(float));
        if (bytes > Ggml.NBytes(tensor))
        {
            throw new InvalidOperationException($"Reading {bytes} bytes from a tensor of {Ggml.NBytes(tensor)}.");
        }

        fixed (float* data = values)
        {
            Ggml.BackendTensorGet(tensor, (IntPtr)data, 0, bytes);
        }
    }

    /// <summary>A one-row forward graph over the trained weights, allocated by its own gallocr.</summary>
    private sealed class InferenceGraph : IDisposable
    {
        private readonly IntPtr _context, _allocator;

        private InferenceGraph(IntPtr context, IntPtr allocator, IntPtr graph, IntPtr tokens, IntPtr logits)
        {
            (_context, _allocator, Graph, Tokens, Logits) = (context, allocator, graph, tokens, logits);
        }

        public IntPtr Graph { get; }

        public IntPtr Tokens { get; }

        public IntPtr Logits { get; }

        public static InferenceGraph Create(LlamaTrainer trainer)
        {
            var context = Ggml.Init(new GgmlInitParams
            {
                MemSize = (Ggml.TensorOverhead() * 4096) + Ggml.GraphOverheadCustom(2048, false),
                NoAlloc = 1,
            });
            var tokens = Named(Ggml.NewTensor1d(context, GgmlTensorType.I32, trainer._width), "inference_tokens");
            Ggml.SetInput(tokens);
            var logits = trainer.BuildForward(context, tokens, 1);
            Ggml.SetOutput(logits);
            var graph = Ggml.NewGraph(context);
            Ggml.BuildForwardExpand(graph, logits);
            var allocator = Ggml.GallocrNew(Ggml.BackendGetDefaultBufferType(trainer._backend));
            if (!Ggml.GallocrAllocGraph(allocator, graph))
            {
                Ggml.GallocrFree(allocator);
                Ggml.Free(context);
                throw new InvalidOperationException("ggml could not allocate the inference graph.");
            }

            return new InferenceGraph(context, allocator, graph, tokens, logits);
        }

        public void Dispose()
        {
            Ggml.GallocrFree(_allocator);
            Ggml.Free(_context);
        }
    }

    private sealed record BlockTensors(
        IntPtr AttentionNorm,
        IntPtr Query,
        IntPtr Key,
        IntPtr Value,
        IntPtr AttentionOutput,
        IntPtr FeedForwardNorm,
        IntPtr Gate,
        IntPtr Up,
        IntPtr Down);
}
