using System.Globalization;
using Harness.Core.Suites;

namespace Harness.Tasks.Generators;

/// <summary><c>arith</c>: two-digit addition, <c>12+45=</c> → <c>57</c>.</summary>
public sealed class ArithGenerator : TaskGenerator<ArithGenerator.Problem>
{
    public sealed record Problem(int A, int B);

    public override SuiteDefinition Definition { get; } = new(
        Name: "arith",
        Version: 1,
        Kind: SuiteKind.Fixed,
        Description: "Two-digit integer addition: '12+45=' is answered with the sum in decimal digits.",
        Request: RequestKind.Generate,
        Prompt: Template("{{a}}+{{b}}="),
        Generation: new GenerationSettings(MaxTokens: 4, Stop: ["\n"], Temperature: 0, Seed: 0),
        Scorers: Scorer("numeric", ("tolerance", Json(0))),
        Requirement: new Requirement(MinPassRate: 0.9, Confidence: 0.95, MaxP95Latency: TimeSpan.FromMilliseconds(2000), MaxJoulesPerItem: null),
        ExtraFiles: NoExtraFiles);

    protected override int EvaluationSeed => 1001;

    protected override Problem Sample(Random random) => new(random.Next(10, 100), random.Next(10, 100));

    // Unordered: knowing 45+12 gives away 12+45, so both sides of a commuted pair count as the same problem.
    protected override string KeyOf(Problem problem) =>
        string.Create(CultureInfo.InvariantCulture, $"{Math.Min(problem.A, problem.B)}+{Math.Max(problem.A, problem.B)}");

    protected override SuiteItem ToItem(string id, Problem problem) => new(
        id,
        Fields(("a", Json(problem.A)), ("b", Json(problem.B))),
        (problem.A + problem.B).ToString(CultureInfo.InvariantCulture),
        []);
}
