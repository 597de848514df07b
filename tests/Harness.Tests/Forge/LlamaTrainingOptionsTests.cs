using System.Globalization;
using Harness.Forge;
using Harness.Forge.Training;

namespace Harness.Tests.Forge;

public sealed class LlamaTrainingOptionsTests
{
    private static readonly LlamaTrainingOptions Options = new(
        new LlamaHyperparameters(64, 32, 2, 64, 4, 4, 1e-5f, 10000f),
        SequenceLength: 16, BatchSize: 4, Steps: 100, LearningRate: 1e-3f, WarmupSteps: 10,
        FinalLearningRateFraction: 0.1f, WeightDecay: 0f, Beta1: 0.9f, Beta2: 0.99f, InitStandardDeviation: 0.02f,
        Threads: 1, CheckpointEverySteps: 0);

    [Fact]
    public void The_schedule_warms_up_linearly_then_decays_by_cosine_to_the_final_fraction()
    {
        Assert.Equal(1e-4f, Options.LearningRateAt(0), 1e-9f);
        Assert.Equal(5e-4f, Options.LearningRateAt(4), 1e-9f);
        Assert.Equal(1e-3f, Options.LearningRateAt(9), 1e-9f);
        Assert.Equal(1e-3f, Options.LearningRateAt(10), 1e-9f);
        Assert.Equal(1e-4f, Options.LearningRateAt(99), 1e-9f);
        var decay = Enumerable.Range(10, 90).Select(Options.LearningRateAt).ToArray();
        Assert.True(decay.Zip(decay.Skip(1)).All(p => p.First >= p.Second), "the learning rate rises after warmup");
        // Halfway through the decay the cosine sits at the midpoint of peak and floor.
        Assert.Equal(5.5e-4f, Options.LearningRateAt(10 + (89 / 2)), 2e-5f);
    }

    [Theory]
    [InlineData("kv")]
    [InlineData("warmup")]
    [InlineData("sequence")]
    [InlineData("decay")]
    [InlineData("fraction")]
    public void Invalid_settings_are_rejected_with_the_problem_named(string which)
    {
        var bad = which switch
        {
            "kv" => Options with { Hyperparameters = Options.Hyperparameters with { HeadCountKv = 2 } },
            "warmup" => Options with { WarmupSteps = 100 },
            "sequence" => Options with { SequenceLength = 65 },
            "decay" => Options with { WeightDecay = -0.1f },
            _ => Options with { FinalLearningRateFraction = 0f },
        };

        var error = Assert.Throws<ArgumentException>(bad.Validate);

        Assert.Contains("Invalid training options", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_are_described_with_the_invariant_culture_under_a_decimal_comma_culture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var described = (Options with { LearningRate = 2.5e-3f, FinalLearningRateFraction = 0.05f }).Describe();

            Assert.Equal("0.0025", described["learning_rate"]);
            Assert.Equal("0.05", described["final_learning_rate_fraction"]);
            Assert.Equal("0.99", described["beta2"]);
            Assert.Equal("100", described["steps"]);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void A_document_holds_bos_prompt_target_and_eos_and_its_loss_starts_where_asked()
    {
        var vocabulary = CharVocabulary.Create("0123456789+=");

        var answerOnly = TrainingDocument.FromText(vocabulary, "1+2=", "3\n", targetOnly: true);
        var everything = TrainingDocument.FromText(vocabulary, "1+2=", "3\n", targetOnly: false);

        int[] expected = [.. vocabulary.Tokenize("1+2=3\n", addBos: true), CharVocabulary.EosId];
        Assert.Equal(expected, answerOnly.Tokens.ToArray());
        Assert.Equal(expected, everything.Tokens.ToArray());
        Assert.Equal(5, answerOnly.LossStart);
        Assert.Equal(1, everything.LossStart);
    }
}
