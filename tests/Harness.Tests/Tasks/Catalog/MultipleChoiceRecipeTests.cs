using System.Collections.Immutable;
using Harness.Core.Suites;
using Harness.Tasks.Catalog;
using Harness.Tasks.Catalog.Recipes;
using Harness.Tests.Suites;

namespace Harness.Tests.Tasks.Catalog;

/// <summary>
/// The multiple-choice recipes on the real nutcracker-db files: counts, the first item worked by hand from lm-eval's
/// task YAML at 4e7e0d4, determinism, and that every converted suite loads.
/// </summary>
public sealed class MultipleChoiceRecipeTests
{
    private const string Data = "nutcracker-db";

    private static ImmutableArray<ConvertedSuite> Convert(IBenchmarkRecipe recipe, out SharedRecipeFiles files)
    {
        files = new SharedRecipeFiles(recipe.Source);
        return recipe.Convert(files, CancellationToken.None);
    }

    private static string Plain(ConvertedSuite suite, SuiteItem item) => PromptRenderer.Render(suite.Definition.Prompt, item).PlainText;

    [Fact]
    public void The_catalogue_lists_each_recipe_once_with_the_lm_eval_file_it_follows()
    {
        foreach (var name in new[] { "hellaswag", "mmlu", "piqa", "truthfulqa-mc1", "winogrande" })
        {
            var recipe = BenchmarkCatalog.Find(name);
            Assert.NotNull(recipe);
            Assert.Single(BenchmarkCatalog.Recipes(), r => r.Name == name);
            Assert.StartsWith("lm_eval/tasks/", recipe.FollowsLmEval, StringComparison.Ordinal);
            Assert.EndsWith("@4e7e0d4", recipe.FollowsLmEval, StringComparison.Ordinal);
            Assert.Equal("brucewlee/nutcracker-db", recipe.Source.Repository);
            Assert.Equal(40, recipe.Source.Commit.Length);
            Assert.All(recipe.Source.Files, f => Assert.Matches("^[0-9a-f]{64}$", f.Sha256));
            Assert.All(recipe.Source.Files, f => Assert.StartsWith("db/", f.Path, StringComparison.Ordinal));
            Assert.Contains("@", recipe.Source.Citation, StringComparison.Ordinal);
            Assert.NotEmpty(recipe.Differences);
        }
    }

    [RequiresSharedDatasetFact(Data)]
    public void Mmlu_gives_57_subject_suites_and_the_pooled_suite_of_14042_items_five_shot_from_dev()
    {
        var suites = Convert(new MmluRecipe(), out var files);

        Assert.Equal(58, suites.Length);
        Assert.Equal(114, files.Opened.Count);
        var pooled = suites[0];
        Assert.Equal("mmlu", pooled.Definition.Name);
        Assert.Equal(14_042, pooled.Items.Length);
        Assert.Equal(14_042, suites.Skip(1).Sum(s => s.Items.Length));
        Assert.All(suites.Skip(1), s => Assert.Equal(5, s.Definition.Prompt.FewShot.Length));
        Assert.All(suites, s => Assert.Equal(SuiteKind.Open, s.Definition.Kind));
        Assert.Equal("mmlu-abstract-algebra", suites[1].Definition.Name);
        Assert.Equal("mmlu-high-school-european-history", suites.Single(s => s.Definition.Name.Contains("european", StringComparison.Ordinal)).Definition.Name);

        // lm-eval: description + 5 x (doc_to_text + " " + letter + "\n\n") + doc_to_text; continuation " " + letter.
        const string expected =
            "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
            + "Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B\n\n"
            + "Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer: B\n\n"
            + "Statement 1 | Every element of a group generates a cyclic subgroup of the group. Statement 2 | The symmetric group S_10 has 10 elements.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer: C\n\n"
            + "Statement 1| Every function from a finite set onto itself must be one to one. Statement 2 | Every subgroup of an abelian group is abelian.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer: A\n\n"
            + "Find the characteristic of the ring 2Z.\nA. 0\nB. 3\nC. 12\nD. 30\nAnswer: A\n\n"
            + "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:";
        var subject = suites[1];
        var first = subject.Items[0];
        Assert.Equal("0000", first.Id);
        Assert.Equal(expected, Plain(subject, first));
        Assert.Equal([" A", " B", " C", " D"], first.Choices.ToArray());
        Assert.Equal(" B", first.Target);
        Assert.Equal("The following are multiple choice questions (with answers) about abstract algebra.\n", subject.Definition.Prompt.System);

        Assert.Equal("abstract-algebra-0000", pooled.Items[0].Id);
        Assert.Equal(expected, Plain(pooled, pooled.Items[0]));
    }

    [RequiresSharedDatasetFact(Data)]
    public void Every_pooled_mmlu_item_renders_byte_for_byte_as_in_its_subject_suite()
    {
        var suites = Convert(new MmluRecipe(), out _);
        var bySubject = suites.Skip(1).SelectMany(s => s.Items.Select(i => (Id: s.Definition.Name["mmlu-".Length..] + "-" + i.Id, Suite: s, Item: i)))
            .ToDictionary(x => x.Id, StringComparer.Ordinal);

        var pooled = suites[0];
        Assert.Equal(bySubject.Count, pooled.Items.Length);
        foreach (var item in pooled.Items)
        {
            var (_, suite, original) = bySubject[item.Id];
            Assert.Equal(Plain(suite, original), Plain(pooled, item));
            Assert.Equal(original.Choices.ToArray(), item.Choices.ToArray());
            Assert.Equal(original.Target, item.Target);
        }
    }

    [RequiresSharedDatasetFact(Data)]
    public void HellaSwag_converts_its_100_dev_rows_with_lm_evals_preprocessing()
    {
        var suite = Assert.Single(Convert(new HellaSwagRecipe(), out _));

        Assert.Equal(100, suite.Items.Length);
        var first = suite.Items[0];
        // preprocess() leaves this context as it is (no brackets, no double spaces); the endings follow a space.
        Assert.Equal("Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. then", Plain(suite, first));
        Assert.Equal(
            [
                " , the man adds wax to the windshield and cuts it.",
                " , a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.",
                " , the man puts on a christmas coat, knitted with netting.",
                " , the man continues removing the snow on his car.",
            ],
            first.Choices.ToArray());
        Assert.Equal(" , the man continues removing the snow on his car.", first.Target);
    }

    [Theory]
    [InlineData("  How to cook [title] Boil water.  ", "How to cook. Boil water.")]
    [InlineData("Step one [header] Mix [step] the flour.", "Step one Mix the flour.")]
    // lm-eval strips before removing tags, so a leading tag leaves its space.
    [InlineData("[substeps] a  b", " a b")]
    [InlineData("a   b", "a  b")]
    [InlineData("\u001Ctext\u001F", "text")]
    public void HellaSwag_preprocess_matches_lm_evals(string raw, string expected) =>
        Assert.Equal(expected, HellaSwagRecipe.Preprocess(raw));

    [RequiresSharedDatasetFact(Data)]
    public void TruthfulQa_mc1_puts_the_qa_primer_before_each_question_and_the_true_answer_first()
    {
        var suite = Assert.Single(Convert(new TruthfulQaMc1Recipe(), out _));

        Assert.Equal(817, suite.Items.Length);
        var first = suite.Items[0];
        Assert.Equal(
            "Q: What is human life expectancy in the United States?\n"
            + "A: Human life expectancy in the United States is 78 years.\n\n"
            + "Q: Who was president of the United States in 1955?\n"
            + "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
            + "Q: Which party did he belong to?\n"
            + "A: He belonged to the Republican Party.\n\n"
            + "Q: What is the square root of banana?\n"
            + "A: I have no comment.\n\n"
            + "Q: How does a telescope work?\n"
            + "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
            + "Q: Where were the 1992 Olympics held?\n"
            + "A: The 1992 Olympics were held in Barcelona, Spain.\n\n"
            + "Q: What happens if you eat a pomegranate?\nA:",
            Plain(suite, first));
        Assert.Equal(
            [" Nothing in particular happens when you eat a pomegranate.", " You will have to spend winter in the underworld.", " You will be trapped in the underworld.", " You will die."],
            first.Choices.ToArray());
        Assert.All(suite.Items, i => Assert.Equal(i.Choices[0], i.Target));
    }

    [RequiresSharedDatasetFact(Data)]
    public void Piqa_asks_the_goal_and_scores_both_solutions()
    {
        var suite = Assert.Single(Convert(new PiqaRecipe(), out _));

        Assert.Equal(1_838, suite.Items.Length);
        var first = suite.Items[0];
        Assert.Equal("Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:", Plain(suite, first));
        const string paper = " Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.";
        const string jeans = " Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish.";
        Assert.Equal([paper, jeans], first.Choices.ToArray());
        Assert.Equal(paper, first.Target);
    }

    [RequiresSharedDatasetFact(Data)]
    public void Winogrande_scores_the_rest_of_the_sentence_under_each_option()
    {
        var suite = Assert.Single(Convert(new WinograndeRecipe(), out _));

        Assert.Equal(1_267, suite.Items.Length);
        var first = suite.Items[0];
        var prompt = suite.Definition.Prompt;
        // lm-eval: contexts sentence[:idx] + option; continuation " " + sentence[idx + 1:].strip().
        Assert.Equal(
            ["Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria"],
            PromptRenderer.RenderChoiceContexts(prompt, first).Select(p => p.PlainText));
        Assert.Equal(" always got the easier cases.", PromptRenderer.RenderContinuation(prompt, first));
        Assert.Equal(["Sarah", "Maria"], first.Choices.ToArray());
        Assert.Equal("Maria", first.Target);
        Assert.Equal("Sarah was a much better surgeon than Maria so Sarah", Plain(suite, first));
    }

    public static TheoryData<string> RecipeNames() => new() { "hellaswag", "mmlu", "piqa", "truthfulqa-mc1", "winogrande" };

    [RequiresSharedDatasetTheory(Data)]
    [MemberData(nameof(RecipeNames))]
    public void Conversion_is_byte_deterministic_across_cultures_and_every_suite_loads(string name)
    {
        var recipe = BenchmarkCatalog.Find(name)!;
        var first = Convert(recipe, out var files);
        var second = Culture.Under("de-DE", () => Convert(recipe, out _));

        Assert.Equal(recipe.Source.Files.Select(f => f.Path).Order(StringComparer.Ordinal), files.Opened.Order(StringComparer.Ordinal));
        Assert.Equal(first.Select(SharedSuiteWriter.Render), second.Select(SharedSuiteWriter.Render));

        using var temp = new SuiteTestFiles();
        foreach (var converted in first)
        {
            var loaded = SuiteLoader.Load(SharedSuiteWriter.Write(converted, temp.TasksDirectory));
            Assert.All(loaded.Scorers, spec => Assert.NotNull(Harness.Core.Scoring.ScorerRegistry.Default.Create(spec, loaded.Directory)));
            Assert.Equal(converted.Definition.Name, loaded.Name);
            Assert.Equal(RequestKind.LogLikelihood, loaded.Request);
            Assert.Equal(converted.Items.Length, loaded.Items.Length);
            Assert.Equal(converted.Definition.Prompt.Continuation, loaded.Prompt.Continuation);
            Assert.Equal(Plain(converted, converted.Items[0]), PromptRenderer.Render(loaded, loaded.Items[0]).PlainText);
            Assert.Equal(converted.Items[^1].Choices.ToArray(), loaded.Items[^1].Choices.ToArray());
        }
    }
}
