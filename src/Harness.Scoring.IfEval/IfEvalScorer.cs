using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Scoring.IfEval;

/// <summary>lm-eval's two aggregation levels: the whole prompt (every instruction followed) or each instruction.</summary>
public enum IfEvalLevel { Prompt, Instruction }

/// <summary>Strict checks the response as given; loose also tries it without its first and/or last line and without '*'.</summary>
public enum IfEvalMode { Strict, Loose }

/// <summary>Which instructions of one item a response follows, strictly and loosely.</summary>
public sealed record IfEvalOutcome(ImmutableArray<string> InstructionIds, ImmutableArray<bool> Strict, ImmutableArray<bool> Loose);

/// <summary>
/// IFEval (lm_eval/tasks/ifeval/utils.py@4e7e0d4): checks the item's instructions (fields <c>instruction_id_list</c>
/// and <c>kwargs</c>) against the output. Prompt level scores 1 when every instruction is followed; instruction level
/// scores the fraction followed. The flexible value is the loose variant. <see cref="Score.Answer"/> is
/// <c>followed/total</c>, so lm-eval's instruction-level accuracy (micro-averaged over all instructions) is the sum of
/// the numerators over the sum of the denominators, not the mean of the per-item fractions.
/// </summary>
public sealed class IfEvalScorer : IScorer
{
    public const string InstructionIdsField = "instruction_id_list";
    public const string KwargsField = "kwargs";

    private readonly IfEvalLevel level;
    private readonly IfEvalMode mode;
    private readonly Lazy<ILanguageDetector> languages;

    public IfEvalScorer(IfEvalLevel level, IfEvalMode mode, ILanguageDetector languages)
        : this(level, mode, new Lazy<ILanguageDetector>(languages))
    {
    }

    internal IfEvalScorer(IfEvalLevel level, IfEvalMode mode, Lazy<ILanguageDetector> languages)
    {
        this.level = level;
        this.mode = mode;
        this.languages = languages;
    }

    /// <summary><c>ifeval.prompt_strict</c>, <c>ifeval.prompt_loose</c>, <c>ifeval.inst_strict</c> or <c>ifeval.inst_loose</c>
    /// (lm-eval's metric names without <c>_level</c> and <c>_acc</c>).</summary>
    public string Name => $"{IfEvalScorerFactory.ScorerName}.{(level == IfEvalLevel.Prompt ? "prompt" : "inst")}_{(mode == IfEvalMode.Strict ? "strict" : "loose")}";

    public Score Score(ScoringInput input)
    {
        IfEvalOutcome outcome;
        try
        {
            outcome = Check(input.Item, input.Output, new Deferred(languages));
        }
        catch (ArgumentException e)
        {
            return new Score(Name, 0.0, null, 0.0, null, $"item '{input.Item.Id}': {e.Message}");
        }

        var chosen = mode == IfEvalMode.Strict ? outcome.Strict : outcome.Loose;
        var value = Value(chosen);
        var flexible = Value(outcome.Loose);
        var failed = Failed(outcome.InstructionIds, chosen);
        string? explanation = null;
        if (failed.Length > 0)
        {
            explanation = $"not followed ({(mode == IfEvalMode.Strict ? "strict" : "loose")}): {failed}";
            if (mode == IfEvalMode.Strict && Failed(outcome.InstructionIds, outcome.Loose) is var looseFailed && looseFailed != failed)
            {
                explanation += looseFailed.Length == 0 ? "; loose: all followed" : $"; loose: {looseFailed}";
            }
        }

        return new Score(Name, value, Count(chosen), flexible, Count(outcome.Loose), explanation);
    }

    private double Value(ImmutableArray<bool> followed) => level == IfEvalLevel.Prompt
        ? (followed.All(f => f) ? 1.0 : 0.0)
        : (double)followed.Count(f => f) / followed.Length;

    private static string Count(ImmutableArray<bool> followed) =>
        string.Create(CultureInfo.InvariantCulture, $"{followed.Count(f => f)}/{followed.Length}");

    private static string Failed(ImmutableArray<string> ids, ImmutableArray<bool> followed) =>
        string.Join(", ", ids.Where((_, i) => !followed[i]));

    /// <summary>
    /// Checks every instruction of <paramref name="item"/>: strictly (<c>test_instruction_following_strict</c>) and
    /// loosely (<c>test_instruction_following_loose</c>). An instruction on an empty or all-whitespace response is
    /// never followed.
    /// </summary>
    /// <exception cref="ArgumentException">The item lacks the fields, or names an unknown instruction or bad arguments.</exception>
    public static IfEvalOutcome Check(SuiteItem item, string response, ILanguageDetector languages)
    {
        var ids = StringList(item, InstructionIdsField);
        if (!item.Fields.TryGetValue(KwargsField, out var kwargs) || kwargs.ValueKind != JsonValueKind.Array || kwargs.GetArrayLength() != ids.Length)
        {
            throw new ArgumentException($"field '{KwargsField}' must be a list of {ids.Length} objects, one per instruction");
        }

        var variants = LooseVariants(response);
        var strict = ImmutableArray.CreateBuilder<bool>(ids.Length);
        var loose = ImmutableArray.CreateBuilder<bool>(ids.Length);
        var index = 0;
        foreach (var arguments in kwargs.EnumerateArray())
        {
            var instruction = InstructionRegistry.Create(ids[index++], arguments, languages);
            var followed = Follows(instruction, response);
            strict.Add(followed);
            loose.Add(followed || variants.Skip(1).Any(v => Follows(instruction, v)));
        }

        return new IfEvalOutcome(ids, strict.MoveToImmutable(), loose.MoveToImmutable());
    }

    /// <summary>The eight responses loose mode tries, in upstream's order: the response, without '*', without its first
    /// line, without its last line, without both (each of those stripped), and the last three without '*'.</summary>
    public static ImmutableArray<string> LooseVariants(string response)
    {
        var lines = response.Split('\n');
        var removeFirst = IfEvalText.Strip(string.Join('\n', lines.Skip(1)));
        var removeLast = IfEvalText.Strip(string.Join('\n', lines.Take(lines.Length - 1)));
        var removeBoth = IfEvalText.Strip(string.Join('\n', lines.Skip(1).Take(lines.Length - 2)));
        return
        [
            response,
            response.Replace("*", "", StringComparison.Ordinal),
            removeFirst,
            removeLast,
            removeBoth,
            removeFirst.Replace("*", "", StringComparison.Ordinal),
            removeLast.Replace("*", "", StringComparison.Ordinal),
            removeBoth.Replace("*", "", StringComparison.Ordinal),
        ];
    }

    private static bool Follows(Instruction instruction, string response) =>
        IfEvalText.Strip(response).Length > 0 && instruction.IsFollowed(response);

    // Builds the detector only when an instruction asks for a language.
    private sealed class Deferred(Lazy<ILanguageDetector> detector) : ILanguageDetector
    {
        public bool IsLanguage(string text, string isoCode) => detector.Value.IsLanguage(text, isoCode);
    }

    private static ImmutableArray<string> StringList(SuiteItem item, string field)
    {
        if (!item.Fields.TryGetValue(field, out var value) || value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0
            || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw new ArgumentException($"field '{field}' must be a non-empty list of instruction ids");
        }

        return [.. value.EnumerateArray().Select(e => e.GetString()!)];
    }
}
