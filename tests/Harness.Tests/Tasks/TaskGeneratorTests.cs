using System.Text.RegularExpressions;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Generators;
using Harness.Tests.Suites;

namespace Harness.Tests.Tasks;

public sealed class TaskGeneratorTests
{
    public static TheoryData<string> SuiteNames() => [.. TaskWriter.Generators().Select(g => g.Definition.Name)];

    private static ITaskGenerator Generator(string name) => TaskWriter.Generators().Single(g => g.Definition.Name == name);

    // The keys are internal to the base class; every shipped generator derives from it.
    private static IReadOnlySet<string> EvaluationKeys(ITaskGenerator generator) => generator switch
    {
        ArithGenerator g => g.EvaluationKeys(),
        DatesGenerator g => g.EvaluationKeys(),
        SentimentGenerator g => g.EvaluationKeys(),
        JsonExtractGenerator g => g.EvaluationKeys(),
        ReverseGenerator g => g.EvaluationKeys(),
        _ => throw new ArgumentException(generator.GetType().Name),
    };

    private static IEnumerable<string> RawKeys(ITaskGenerator generator, int seed, int count) => generator switch
    {
        ArithGenerator g => g.SampleKeys(seed, count),
        DatesGenerator g => g.SampleKeys(seed, count),
        SentimentGenerator g => g.SampleKeys(seed, count),
        JsonExtractGenerator g => g.SampleKeys(seed, count),
        ReverseGenerator g => g.SampleKeys(seed, count),
        _ => throw new ArgumentException(generator.GetType().Name),
    };

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void Evaluation_items_are_deterministic_distinct_and_200(string name)
    {
        var first = Generator(name).GenerateEvaluation();
        var second = Culture.Under("de-DE", () => Generator(name).GenerateEvaluation());

        Assert.Equal(200, first.Length);
        Assert.Equal(200, EvaluationKeys(Generator(name)).Count);
        Assert.Equal(TaskWriter.ItemsJsonl(first), TaskWriter.ItemsJsonl(second));
        Assert.Equal(first.Length, first.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void Training_is_disjoint_from_evaluation_on_20000_examples(string name)
    {
        var generator = Generator(name);
        var evaluation = EvaluationKeys(generator);

        var training = generator.GenerateTraining(seed: 7, count: 20_000).ToList();

        Assert.Equal(20_000, training.Count);
        Assert.DoesNotContain(training, t => evaluation.Contains(t.Key));
        // The filter must have had something to remove, or this test would prove nothing about it.
        Assert.Contains(RawKeys(generator, 7, 20_000), evaluation.Contains);
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void Training_is_deterministic_per_seed_and_differs_across_seeds(string name)
    {
        var a = Generator(name).GenerateTraining(1, 300).Select(t => t.Text).ToList();
        var b = Culture.Under("de-DE", () => Generator(name).GenerateTraining(1, 300).Select(t => t.Text).ToList());
        var c = Generator(name).GenerateTraining(2, 300).Select(t => t.Text).ToList();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void Training_text_is_the_committed_suite_prompt_plus_target_plus_stop(string name)
    {
        var suite = SuiteLoader.Load(Path.Combine(RepoPaths.Tasks(), name));
        var terminator = suite.Generation.Stop.IsEmpty ? "\n" : suite.Generation.Stop[0];
        // The committed template with each placeholder as a wildcard: the prompt a model trains on has the eval shape.
        var shape = new Regex("^" + string.Join("[^\n]+", suite.Prompt.Template.Split(["{{", "}}"], StringSplitOptions.None)
            .Where((_, i) => i % 2 == 0).Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant);

        foreach (var example in Generator(name).GenerateTraining(3, 50))
        {
            Assert.StartsWith(example.Prompt, example.Text, StringComparison.Ordinal);
            Assert.Equal(example.Prompt + example.Target + terminator, example.Text);
            Assert.Matches(shape, example.Prompt);
        }
    }

    [Fact]
    public void Examples_look_as_documented()
    {
        var arith = new ArithGenerator().GenerateEvaluation()[0];
        var dates = new DatesGenerator().GenerateEvaluation();
        var sentiment = new SentimentGenerator().GenerateEvaluation();
        var json = new JsonExtractGenerator().GenerateEvaluation()[0];
        var reverse = new ReverseGenerator().GenerateEvaluation();

        Assert.Equal((arith.Fields["a"].GetInt32() + arith.Fields["b"].GetInt32()).ToString(System.Globalization.CultureInfo.InvariantCulture), arith.Target);
        Assert.All(dates, d => Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", d.Target!));
        Assert.All(dates, d => Assert.Matches(@"^([A-Z][a-z]{2} \d{1,2} \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{2}/\d{2}/\d{4})$", d.Fields["date"].GetString()!));
        Assert.All(dates.Where(d => d.Fields["date"].GetString()!.Contains('/', StringComparison.Ordinal)), d =>
        {
            var parts = d.Fields["date"].GetString()!.Split('/');
            Assert.Equal($"{parts[2]}-{parts[0]}-{parts[1]}", d.Target);
        });
        Assert.All(sentiment, s => Assert.Equal([SentimentGenerator.PositiveChoice, SentimentGenerator.NegativeChoice], s.Choices.AsEnumerable()));
        Assert.InRange(sentiment.Count(s => s.Target == SentimentGenerator.PositiveChoice), 70, 130);
        Assert.Matches("""^\{"name":"[A-Za-z]+","age":\d{2},"city":"[A-Za-z]+"\}$""", json.Target!);
        Assert.All(reverse, r => Assert.Matches("^[a-z]{3,8}$", r.Fields["word"].GetString()!));
        Assert.All(reverse, r => Assert.Equal(new string(r.Fields["word"].GetString()!.Reverse().ToArray()), r.Target));
    }

    [Theory]
    [InlineData(2021, 3, 5, 0, "Mar 5 2021")]
    [InlineData(2021, 3, 5, 1, "5 March 2021")]
    [InlineData(2021, 3, 5, 2, "03/05/2021")]
    [InlineData(1999, 12, 31, 2, "12/31/1999")]
    public void Dates_are_spelled_in_english_under_any_culture(int year, int month, int day, int style, string expected)
    {
        var spelled = Culture.Under("de-DE", () => DatesGenerator.Spell(new DatesGenerator.Problem(new DateOnly(year, month, day), style)));

        Assert.Equal(expected, spelled);
    }

    [Fact]
    public void Sentiment_reviews_have_at_most_one_word_of_the_other_polarity()
    {
        foreach (var item in new SentimentGenerator().GenerateEvaluation())
        {
            var words = item.Fields["text"].GetString()!.Split(' ');
            var positive = words.Count(SentimentGenerator.PositiveWords.Contains);
            var negative = words.Count(SentimentGenerator.NegativeWords.Contains);
            Assert.Equal(words.Length, positive + negative);
            Assert.InRange(words.Length, 3, 5);
            Assert.Equal(item.Target == SentimentGenerator.PositiveChoice ? negative : positive, Math.Min(positive, negative));
            Assert.True(Math.Min(positive, negative) <= 1);
        }
    }
}
