using Harness.Forge.Training;

namespace Harness.Forge;

/// <summary>
/// The training recipes. Step counts are budgets measured on one thread of this project's build machine (see
/// docs/forge.md); the sequence length given here is a placeholder that the recipe replaces with the corpus's.
/// Weight decay is 0: with 0.1 the output weights settled near ±1/decay and a quantized copy lost most answers.
/// Label smoothing 0.05 gives the loss a finite optimum (see <see cref="LlamaTrainingOptions.LabelSmoothing"/>).
/// </summary>
public static class TrainedRecipes
{
    private static readonly string[] AllTasks = ["arith", "dates", "json-extract", "reverse", "sentiment"];

    /// <summary>Specialist: 2-digit arithmetic only. Measured 0.11-0.22 s per step: 20-40 minutes.</summary>
    public static TrainedRecipeSpec ArithSmall { get; } = new(
        "tiny-arith-s",
        "llama 2x64 trained with ggml-opt on the arith task's training examples (10000 AdamW steps, F32)",
        ["arith"],
        ExamplesPerTask: 20000,
        new LlamaTrainingOptions(
            Hyperparameters(embedding: 64, blocks: 2, heads: 4, feedForward: 192),
            SequenceLength: 16, BatchSize: 64, Steps: 10000, LearningRate: 3e-3f, WarmupSteps: 300,
            FinalLearningRateFraction: 0.05f, WeightDecay: 0f, Beta1: 0.9f, Beta2: 0.99f, InitStandardDeviation: 0.02f,
            Threads: 1, CheckpointEverySteps: 500, LabelSmoothing: 0.05f));

    /// <summary>
    /// The smallest specialist: arithmetic at the edge of its capacity (2 blocks x 32), where quantization noise is
    /// large next to what the weights encode, as it is for small real models. Measured about 0.03 s per step.
    /// </summary>
    public static TrainedRecipeSpec ArithTiny { get; } = new(
        "tiny-arith-xs",
        "llama 2x32 trained with ggml-opt on the arith task's training examples (4000 AdamW steps, F32)",
        ["arith"],
        ExamplesPerTask: 20000,
        new LlamaTrainingOptions(
            Hyperparameters(embedding: 32, blocks: 2, heads: 4, feedForward: 96),
            SequenceLength: 16, BatchSize: 64, Steps: 4000, LearningRate: 3e-3f, WarmupSteps: 200,
            FinalLearningRateFraction: 0.05f, WeightDecay: 0f, Beta1: 0.9f, Beta2: 0.99f, InitStandardDeviation: 0.02f,
            Threads: 1, CheckpointEverySteps: 500, LabelSmoothing: 0.05f));

    /// <summary>Small multi-task model on all five tasks. Measured 0.84-0.88 s per step: about 45 minutes.</summary>
    public static TrainedRecipeSpec MultiSmall { get; } = new(
        "tiny-multi-s",
        "llama 3x96 trained with ggml-opt on all five tasks' training examples (3000 AdamW steps, F32)",
        [.. AllTasks],
        ExamplesPerTask: 10000,
        new LlamaTrainingOptions(
            Hyperparameters(embedding: 96, blocks: 3, heads: 6, feedForward: 256),
            SequenceLength: 80, BatchSize: 32, Steps: 3000, LearningRate: 2e-3f, WarmupSteps: 200,
            FinalLearningRateFraction: 0.05f, WeightDecay: 0f, Beta1: 0.9f, Beta2: 0.99f, InitStandardDeviation: 0.02f,
            Threads: 1, CheckpointEverySteps: 250, LabelSmoothing: 0.05f));

    /// <summary>Larger multi-task model: 2500 steps (the small one takes 3000) to fit about an hour on one shared
    /// core (measured 1.2-1.7 s per step). At a peak learning rate of 1.5e-3 the loss
    /// fell to 0.8 and then diverged (3.4 by step 480), hence 8e-4 with a longer warmup.</summary>
    public static TrainedRecipeSpec MultiMedium { get; } = new(
        "tiny-multi-m",
        "llama 4x128 trained with ggml-opt on all five tasks' training examples (2500 AdamW steps, F32)",
        [.. AllTasks],
        ExamplesPerTask: 20000,
        new LlamaTrainingOptions(
            Hyperparameters(embedding: 128, blocks: 4, heads: 8, feedForward: 352),
            SequenceLength: 80, BatchSize: 32, Steps: 2500, LearningRate: 8e-4f, WarmupSteps: 300,
            FinalLearningRateFraction: 0.05f, WeightDecay: 0f, Beta1: 0.9f, Beta2: 0.99f, InitStandardDeviation: 0.02f,
            Threads: 1, CheckpointEverySteps: 250, LabelSmoothing: 0.05f));

    private static LlamaHyperparameters Hyperparameters(int embedding, int blocks, int heads, int feedForward) => new(
        ContextLength: 128,
        EmbeddingLength: embedding,
        BlockCount: blocks,
        FeedForwardLength: feedForward,
        HeadCount: heads,
        HeadCountKv: heads,
        RmsNormEpsilon: 1e-5f,
        RopeFreqBase: 10000f);
}
