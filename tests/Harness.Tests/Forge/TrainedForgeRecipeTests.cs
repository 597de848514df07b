using Harness.Forge;
using Harness.Forge.Training;
using Harness.Tasks;

namespace Harness.Tests.Forge;

public sealed class TrainedForgeRecipeTests
{
    [Theory]
    [InlineData("tiny-arith-s")]
    [InlineData("tiny-multi-s")]
    [InlineData("tiny-multi-m")]
    public void The_training_recipes_are_registered_with_valid_options(string name)
    {
        var recipe = Assert.IsAssignableFrom<ITrainingForgeRecipe>(ForgeRecipes.Find(name));
        var spec = Assert.IsType<TrainedForgeRecipe>(recipe).Spec;

        spec.Training.Validate();
        Assert.Equal(name + ".gguf", recipe.DefaultFileName);
        Assert.Equal(spec.Training.Steps, recipe.Steps);
        Assert.Equal(0f, spec.Training.WeightDecay);
        Assert.Equal(1, spec.Training.Threads);
    }

    [Fact]
    public void The_corpus_is_fixed_and_each_task_contributes_its_examples_in_order()
    {
        var recipe = new TrainedForgeRecipe(TrainedRecipes.MultiSmall with { ExamplesPerTask = 3 });

        var first = recipe.Corpus(CancellationToken.None);
        var second = recipe.Corpus(CancellationToken.None);

        Assert.Equal(15, first.Length);
        Assert.Equal(first.ToArray(), second.ToArray());
        var arith = TaskWriter.Generators().Single(g => g.Definition.Name == "arith").GenerateTraining(TrainedForgeRecipe.Seed, 3);
        Assert.Equal(arith.ToArray(), first.Take(3).ToArray());
    }

    [Fact]
    public void An_unknown_task_is_named_in_the_error()
    {
        var recipe = new TrainedForgeRecipe(TrainedRecipes.ArithSmall with { Tasks = ["arith", "poetry"] });

        var error = Assert.Throws<ArgumentException>(() => recipe.Corpus(CancellationToken.None));

        Assert.Contains("'poetry'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Documents_train_on_the_answer_and_the_width_fits_the_longest()
    {
        var vocabulary = CharVocabulary.Create(CharVocabulary.PrintableAscii);
        TrainingExample[] corpus = [new("1+2", "1+2=", "3", "1+2=3\n"), new("10+25", "10+25=", "35", "10+25=35\n")];

        var documents = TrainedForgeRecipe.Documents(vocabulary, corpus);

        Assert.Equal([5, 7], documents.Select(d => d.LossStart));
        Assert.Equal(11, documents[1].Tokens.Length);
        Assert.Equal(16, TrainedForgeRecipe.SequenceLengthFor(documents));
        Assert.Equal(8, TrainedForgeRecipe.SequenceLengthFor(documents.Take(1)));
    }

    [Fact]
    public void An_example_whose_text_does_not_start_with_its_prompt_is_refused()
    {
        var vocabulary = CharVocabulary.Create(CharVocabulary.PrintableAscii);

        var error = Assert.Throws<InvalidOperationException>(() => TrainedForgeRecipe.Documents(vocabulary, [new("k", "1+2=", "3", "2+1=3\n")]));

        Assert.Contains("'k'", error.Message, StringComparison.Ordinal);
    }
}
