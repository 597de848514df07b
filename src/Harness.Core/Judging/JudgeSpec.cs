using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Scoring;

namespace Harness.Core.Judging;

public enum JudgeMode
{
    /// <summary>A score on the declared scale for each answer on its own.</summary>
    Pointwise,
    /// <summary>The answer against another model's answer to the same item, asked in both orders.</summary>
    Pairwise,
    /// <summary>MT-bench's single-answer grading: every turn rated 1–10 with MT-bench's own judge prompts.</summary>
    MtBench,
}

/// <summary>
/// The <c>judge</c> scorer's arguments: which manifest model judges, against which rubric, on which scale.
/// Everything here goes into run.json with the suite and into every judgement record.
/// </summary>
/// <param name="JudgeModelId">A model id of the manifest (a GGUF model) that grades.</param>
/// <param name="Rubric">The grading instructions, from <c>rubric</c> or the file <c>rubric_file</c> of the suite.</param>
/// <param name="ScaleMin">Lowest pointwise score (integer).</param>
/// <param name="ScaleMax">Highest pointwise score (integer, at most <see cref="MaxScaleSteps"/> above the lowest).</param>
/// <param name="PassAt">Pointwise: an answer passes at this score or above. Pairwise: passing means preferred over the other answer.</param>
/// <param name="AgainstModelId">Pairwise: the model whose answers every other model's answers are compared with.</param>
/// <param name="MtBench">MT-bench mode: the judge prompts (from <c>prompts_file</c>) and the categories graded against a
/// reference answer; <paramref name="Rubric"/> then names the prompts file.</param>
public sealed record JudgeSpec(
    string JudgeModelId,
    JudgeMode Mode,
    string Rubric,
    int ScaleMin,
    int ScaleMax,
    int PassAt,
    string? AgainstModelId,
    MtBenchPrompts? MtBench = null)
{
    /// <summary>The scorer name suites use.</summary>
    public const string ScorerName = "judge";

    /// <summary>More steps than this make a grammar of single choices unwieldy and a judge's scale meaningless.</summary>
    public const int MaxScaleSteps = 100;

    /// <summary>The <c>judge</c> scorer's arguments, for validation and the generated reference.</summary>
    public static ScorerDescription Description { get; } = new(
        ScorerName,
        "A GGUF model of the manifest grades the recorded answers after every candidate has run (the judge pass); "
        + "the report's scores of a judged suite are the judge's, normalised to [0, 1]. Below: how it prompts and parses.",
        [
            new("model", ScorerArgumentType.Text, "a model id of the manifest (it need not be a candidate of the run); `harness run --judge <id>` sets it") { Required = true },
            new("mode", ScorerArgumentType.Text, "`pointwise`: a score on the scale; `pairwise`: against `against`'s answer to the same item; `mt-bench`: MT-bench's single-answer grading")
            {
                Default = "pointwise",
                AllowedValues = ["pointwise", "pairwise", "mt-bench"],
            },
            new("rubric", ScorerArgumentType.Text, "grading instructions (pointwise, pairwise: this or `rubric_file` is required)"),
            new("rubric_file", ScorerArgumentType.Text, "grading instructions from a file, relative to the suite folder"),
            new("scale", ScorerArgumentType.WholeNumberPair, "pointwise: the integer scale `[lowest, highest]`, at most 100 steps") { Default = "[1, 10]" },
            new("pass_at", ScorerArgumentType.WholeNumber, "pointwise, mt-bench: passes at this score or above (pairwise: passes when preferred)") { Default = "top of the scale" },
            new("against", ScorerArgumentType.Text, "pairwise only, required there: the model every other model is compared with"),
            new("prompts_file", ScorerArgumentType.Text, "mt-bench only, required there: MT-bench's `judge_prompts.jsonl`, relative to the suite folder"),
            new("reference_categories", ScorerArgumentType.TextList, "mt-bench only: categories graded against reference answers (FastChat's `NEED_REF_CATS`)") { Default = "[math, reasoning, coding]" },
        ],
        """{"model": "my-judge", "rubric": "Is the answer correct and complete?", "scale": [1, 10], "pass_at": 7}""");

    /// <summary>Parses the scorer arguments; <paramref name="suiteDirectory"/> resolves <c>rubric_file</c>.</summary>
    /// <exception cref="ArgumentException">A missing or malformed argument, named.</exception>
    public static JudgeSpec Parse(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        var model = args.RequiredString("model");
        var mode = args.OptionalString("mode") switch
        {
            null or "pointwise" => JudgeMode.Pointwise,
            "pairwise" => JudgeMode.Pairwise,
            "mt-bench" => JudgeMode.MtBench,
            var other => throw args.Invalid("mode", $"has unknown mode '{other}'"),
        };
        if (mode == JudgeMode.MtBench)
        {
            return ParseMtBench(args, model, suiteDirectory);
        }

        if (args.Raw("prompts_file") is not null || args.Raw("reference_categories") is not null)
        {
            throw args.Invalid("prompts_file", "prompts_file and reference_categories only apply in mt-bench mode");
        }
        var rubric = args.OptionalString("rubric");
        var rubricFile = args.OptionalString("rubric_file");
        if (rubric is null == rubricFile is null)
        {
            throw args.Invalid("rubric", "exactly one of rubric and rubric_file is required");
        }

        if (rubricFile is not null)
        {
            var path = Path.GetFullPath(Path.Combine(suiteDirectory, rubricFile));
            try
            {
                rubric = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw args.Invalid("rubric_file", $"cannot be read ({path}: {ex.Message})");
            }
        }

        if (string.IsNullOrWhiteSpace(rubric))
        {
            throw args.Invalid("rubric", "must not be empty");
        }

        var (min, max) = (1, 10);
        if (args.Raw("scale") is { } scale)
        {
            if (scale.ValueKind != JsonValueKind.Array || scale.GetArrayLength() != 2
                || !scale[0].TryGetInt32(out min) || !scale[1].TryGetInt32(out max) || max <= min || max - min > MaxScaleSteps)
            {
                throw args.Invalid("scale", $"must be [lowest, highest] integers with lowest < highest and at most {MaxScaleSteps} steps");
            }
        }

        var passAt = max;
        if (args.Raw("pass_at") is { } pass)
        {
            if (!pass.TryGetInt32(out passAt) || passAt < min || passAt > max)
            {
                throw args.Invalid("pass_at", string.Create(CultureInfo.InvariantCulture, $"must be an integer on the scale {min}..{max}"));
            }
        }

        var against = args.OptionalString("against");
        if (mode == JudgeMode.Pairwise && string.IsNullOrEmpty(against))
        {
            throw args.Invalid("against", "is required in pairwise mode: the model whose answers the others are compared with");
        }

        if (mode == JudgeMode.Pointwise && against is not null)
        {
            throw args.Invalid("against", "only applies in pairwise mode");
        }

        return new JudgeSpec(model, mode, rubric!.Trim(), min, max, passAt, against);
    }

    // MT-bench's prompts carry their own instructions and scale: no rubric, no scale, 1-10 fixed.
    private static JudgeSpec ParseMtBench(ScorerArguments args, string model, string suiteDirectory)
    {
        foreach (var name in new[] { "rubric", "rubric_file", "scale", "against" })
        {
            if (args.Raw(name) is not null)
            {
                throw args.Invalid(name, "does not apply in mt-bench mode (MT-bench's judge prompts grade on 1..10)");
            }
        }

        var file = args.RequiredString("prompts_file");
        var categories = MtBenchPrompts.DefaultReferenceCategories;
        if (args.Raw("reference_categories") is { } raw)
        {
            if (raw.ValueKind != JsonValueKind.Array || raw.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            {
                throw args.Invalid("reference_categories", "must be a list of category names");
            }

            categories = [.. raw.EnumerateArray().Select(e => e.GetString()!)];
        }

        var passAt = 10;
        if (args.Raw("pass_at") is { } pass && (!pass.TryGetInt32(out passAt) || passAt is < 1 or > 10))
        {
            throw args.Invalid("pass_at", "must be an integer on MT-bench's scale 1..10");
        }

        var path = Path.GetFullPath(Path.Combine(suiteDirectory, file));
        MtBenchPrompts prompts;
        try
        {
            prompts = MtBenchPrompts.Load(path, categories);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw args.Invalid("prompts_file", $"cannot be read ({ex.Message})");
        }

        return new JudgeSpec(model, JudgeMode.MtBench, file, 1, 10, passAt, null, prompts);
    }

    /// <summary>A pointwise score mapped onto [0, 1].</summary>
    public double Normalize(int score) => (double)(score - ScaleMin) / (ScaleMax - ScaleMin);
}

/// <summary>
/// The <c>judge</c> scorer at item time. A judge is a model, and a scorer never runs one: this placeholder records
/// "awaiting the judge" with a value of 0, and the judge pass after the candidates stores a judgement per item that
/// the report puts in its place (<see cref="JudgementOverlay"/>). An item the judge never reached keeps 0 and is
/// counted as not judged.
/// </summary>
public sealed class JudgeScorer(JudgeSpec spec) : IScorer
{
    public JudgeSpec Spec { get; } = spec;

    public string Name => JudgeSpec.ScorerName;

    public Score Score(ScoringInput input) =>
        new(Name, 0, null, 0, null, $"awaiting the judge pass ({Spec.JudgeModelId}, {JudgementOverlay.ModeName(Spec.Mode)})");
}

/// <summary>Builds <see cref="JudgeScorer"/> from a suite's <c>judge</c> scorer entry.</summary>
public sealed class JudgeScorerFactory : IScorerFactory
{
    public string Name => JudgeSpec.ScorerName;

    public ScorerDescription Description => JudgeSpec.Description;

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory) =>
        new JudgeScorer(JudgeSpec.Parse(arguments, suiteDirectory));
}
