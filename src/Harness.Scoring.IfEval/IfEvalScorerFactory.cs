using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Scoring;

namespace Harness.Scoring.IfEval;

/// <summary>
/// Builds <see cref="IfEvalScorer"/>s sharing one language detector, built on the first score that needs it (Lingua's
/// models are large), so validating a suite loads nothing. Arguments: <c>level</c> (<c>prompt</c> | <c>instruction</c>,
/// default prompt) and <c>mode</c> (<c>strict</c> | <c>loose</c>, default strict).
/// </summary>
public sealed class IfEvalScorerFactory : IScorerFactory
{
    public const string ScorerName = "ifeval";
    public const string LevelArgument = "level";
    public const string ModeArgument = "mode";

    private readonly Lazy<ILanguageDetector> languages;

    public IfEvalScorerFactory()
        : this(() => new LinguaLanguageDetector())
    {
    }

    /// <summary>For tests: any detector, still created once and only when first needed.</summary>
    public IfEvalScorerFactory(Func<ILanguageDetector> createDetector) =>
        languages = new Lazy<ILanguageDetector>(createDetector, LazyThreadSafetyMode.ExecutionAndPublication);

    public string Name => ScorerName;

    public ScorerDescription Description { get; } = new(
        ScorerName,
        "Checks the verifiable instructions of an IFEval item (its fields `instruction_id_list` and `kwargs`); the "
        + "`ifeval` catalogue suite uses it. Details below.",
        [
            new(LevelArgument, ScorerArgumentType.Text, "`prompt`: 1 when every instruction is followed, else 0; `instruction`: the fraction followed")
            {
                Default = "prompt",
                AllowedValues = ["prompt", "instruction"],
            },
            new(ModeArgument, ScorerArgumentType.Text, "`strict`: the response as given; `loose`: followed if any of the response, it without its first line, without its last line, without both, and each of those without `*` follows it")
            {
                Default = "strict",
                AllowedValues = ["strict", "loose"],
            },
        ],
        """{"level": "instruction", "mode": "loose"}""");

    /// <exception cref="ScorerArgumentException">An unknown argument or value.</exception>
    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        var level = args.OptionalString(LevelArgument) is null or "prompt" ? IfEvalLevel.Prompt : IfEvalLevel.Instruction;
        var mode = args.OptionalString(ModeArgument) is null or "strict" ? IfEvalMode.Strict : IfEvalMode.Loose;
        return new IfEvalScorer(level, mode, languages);
    }
}
