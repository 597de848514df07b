using System.Collections.Immutable;
using System.Globalization;

namespace Harness.Forge.Training;

/// <summary>
/// How to train a llama from scratch with ggml-opt's AdamW. Every value is recorded in the GGUF a recipe writes.
/// </summary>
/// <param name="SequenceLength">Tokens per training row (the static graph's width). A document (BOS, text, EOS) may
/// hold at most one more token than this, since the last token is only a target.</param>
/// <param name="BatchSize">Rows per optimizer step; each row holds one document, the rest of the row is padding that
/// the loss ignores.</param>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="LearningRate">Peak AdamW learning rate, reached after <paramref name="WarmupSteps"/>.</param>
/// <param name="FinalLearningRateFraction">The cosine schedule ends at this fraction of the peak.</param>
/// <param name="WeightDecay">Decoupled AdamW decay, the same for every tensor (ggml-opt has one per context). Large
/// values pin output weights near ±1/decay and made quantized models fragile, hence the small default.</param>
/// <param name="InitStandardDeviation">Normal init of every matrix; the two that write into the residual stream
/// (attention output, FFN down) get it divided by sqrt(2 * blocks). Norm weights start at 1.</param>
/// <param name="Threads">CPU threads for ggml; one keeps a training run reproducible and leaves the machine usable.</param>
/// <param name="CheckpointEverySteps">Write a checkpoint GGUF every this many steps; 0 for none.</param>
/// <param name="LabelSmoothing">Share of each target's probability spread evenly over the vocabulary. The tasks are
/// separable, so plain cross-entropy rewards ever larger margins and AdamW (whose steps do not shrink with the gradient)
/// keeps growing the output weights; smoothing gives the loss a finite optimum (logit gap about ln((1 - ε) V / ε)).</param>
public sealed record LlamaTrainingOptions(
    LlamaHyperparameters Hyperparameters,
    int SequenceLength,
    int BatchSize,
    int Steps,
    float LearningRate,
    int WarmupSteps,
    float FinalLearningRateFraction,
    float WeightDecay,
    float Beta1,
    float Beta2,
    float InitStandardDeviation,
    int Threads,
    int CheckpointEverySteps,
    float LabelSmoothing = 0f)
{
    /// <summary>AdamW's epsilon (ggml-opt's default).</summary>
    public const float Epsilon = 1e-8f;

    /// <exception cref="ArgumentException">A setting out of range.</exception>
    public void Validate()
    {
        Hyperparameters.Validate();
        Check(Hyperparameters.HeadCountKv == Hyperparameters.HeadCount, "the trainer builds plain multi-head attention: head_count_kv must equal head_count");
        Check(SequenceLength > 0 && SequenceLength <= Hyperparameters.ContextLength, "the sequence length must be positive and at most the context length");
        Check(BatchSize > 0 && Steps > 0, "batch size and steps must be positive");
        Check(LearningRate > 0 && float.IsFinite(LearningRate), "the learning rate must be positive");
        Check(WarmupSteps >= 0 && WarmupSteps < Steps, "warmup must be shorter than the run");
        Check(FinalLearningRateFraction is > 0 and <= 1, "the final learning-rate fraction must be in (0, 1]");
        Check(WeightDecay is >= 0 and <= 1, "weight decay must be in [0, 1]");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "AdamW betas must be in [0, 1)");
        Check(InitStandardDeviation > 0 && float.IsFinite(InitStandardDeviation), "the init standard deviation must be positive");
        Check(Threads > 0 && CheckpointEverySteps >= 0, "threads must be positive and the checkpoint interval not negative");
        Check(LabelSmoothing is >= 0 and < 1, "label smoothing must be in [0, 1)");

        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                throw new ArgumentException($"Invalid training options: {problem} ({this}).");
            }
        }
    }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based): linear warmup, then cosine decay.</summary>
    public float LearningRateAt(int step)
    {
        if (step < WarmupSteps)
        {
            return LearningRate * (step + 1) / WarmupSteps;
        }

        var decaySteps = Math.Max(1, Steps - WarmupSteps - 1);
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return (float)(LearningRate * (FinalLearningRateFraction + ((1 - FinalLearningRateFraction) * cosine)));
    }

    /// <summary>The settings as invariant-culture strings, for GGUF metadata and manifests.</summary>
    public ImmutableSortedDictionary<string, string> Describe() => ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
    {
        ["sequence_length"] = SequenceLength.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["steps"] = Steps.ToString(CultureInfo.InvariantCulture),
        ["learning_rate"] = LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["warmup_steps"] = WarmupSteps.ToString(CultureInfo.InvariantCulture),
        ["final_learning_rate_fraction"] = FinalLearningRateFraction.ToString("R", CultureInfo.InvariantCulture),
        ["weight_decay"] = WeightDecay.ToString("R", CultureInfo.InvariantCulture),
        ["beta1"] = Beta1.ToString("R", CultureInfo.InvariantCulture),
        ["beta2"] = Beta2.ToString("R", CultureInfo.InvariantCulture),
        ["init_std"] = InitStandardDeviation.ToString("R", CultureInfo.InvariantCulture),
        ["threads"] = Threads.ToString(CultureInfo.InvariantCulture),
        ["label_smoothing"] = LabelSmoothing.ToString("R", CultureInfo.InvariantCulture),
    });
}

/// <summary>One training sequence: BOS, the text's tokens, EOS.</summary>
/// <param name="LossStart">Index of the first token that is a prediction target; earlier tokens are context only
/// (1 trains on everything after BOS; 1 + prompt length trains on the answer and EOS only).</param>
public sealed record TrainingDocument(ImmutableArray<int> Tokens, int LossStart)
{
    /// <summary>BOS + <paramref name="prompt"/> + <paramref name="target"/> + EOS; the loss covers target and EOS only when
    /// <paramref name="targetOnly"/>, else every token after BOS.</summary>
    public static TrainingDocument FromText(CharVocabulary vocabulary, string prompt, string target, bool targetOnly)
    {
        var promptTokens = vocabulary.Tokenize(prompt, addBos: true);
        var tokens = promptTokens.AddRange(vocabulary.Tokenize(target, addBos: false)).Add(CharVocabulary.EosId);
        return new TrainingDocument(tokens, targetOnly ? promptTokens.Length : 1);
    }
}

/// <summary>Reported after every optimizer step.</summary>
/// <param name="Loss">Mean cross-entropy (nats per target token) of this step's batch.</param>
/// <param name="AverageLoss">Exponential moving average of <paramref name="Loss"/> (about the last 50 steps).</param>
public sealed record TrainingProgress(
    int Step,
    int Steps,
    double Loss,
    double AverageLoss,
    float LearningRate,
    TimeSpan Elapsed,
    TimeSpan EstimatedRemaining);

/// <summary>What a finished training run did.</summary>
/// <param name="FinalLoss">The moving-average loss after the last step.</param>
/// <param name="TargetTokens">Target tokens seen (padding and context-only tokens excluded).</param>
public sealed record TrainingSummary(
    int Steps,
    double FirstLoss,
    double FinalLoss,
    TimeSpan Duration,
    long TargetTokens);

/// <summary>Where and how often a run writes intermediate models (F32 GGUF, atomically replaced).</summary>
public sealed record TrainingCheckpoint(string Path, string ModelName);
