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

    /// <exception cref="ArgumentException">An unknown argument or value.</exception>
    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        foreach (var name in arguments.Keys)
        {
            if (name is not (LevelArgument or ModeArgument))
            {
                throw new ArgumentException($"scorer '{Name}': unknown argument '{name}'; known arguments: {LevelArgument}, {ModeArgument}", name);
            }
        }

        var level = Choice(arguments, LevelArgument, "prompt", "instruction") == "prompt" ? IfEvalLevel.Prompt : IfEvalLevel.Instruction;
        var mode = Choice(arguments, ModeArgument, "strict", "loose") == "strict" ? IfEvalMode.Strict : IfEvalMode.Loose;
        return new IfEvalScorer(level, mode, languages);
    }

    private string Choice(ImmutableSortedDictionary<string, JsonElement> arguments, string name, string first, string second)
    {
        if (!arguments.TryGetValue(name, out var value))
        {
            return first;
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text && (text == first || text == second))
        {
            return text;
        }

        throw new ArgumentException($"scorer '{Name}': argument '{name}' must be \"{first}\" or \"{second}\", got {value.GetRawText()}", name);
    }
}
