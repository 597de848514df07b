using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Core.Backends;

namespace Harness.Core.Judging;

/// <summary>One of MT-bench's judge prompts (a line of FastChat's <c>judge_prompts.jsonl</c>).</summary>
/// <param name="Name">e.g. <c>single-v1</c>.</param>
/// <param name="SystemPrompt">The judge's system message, verbatim.</param>
/// <param name="PromptTemplate">The user message, a Python format string with <c>{question}</c>, <c>{answer}</c>, ...</param>
public sealed record MtBenchPrompt(string Name, string SystemPrompt, string PromptTemplate);

/// <summary>
/// The four single-answer prompts MT-bench grades with (FastChat's <c>fastchat/llm_judge</c>, gen_judgment.py and
/// common.py): turn 1 with <c>single-v1</c>, or <c>single-math-v1</c> with the reference answer for the categories
/// that have one; turn 2 with the <c>-multi-turn</c> variants, which show the whole conversation.
/// </summary>
/// <param name="ReferenceCategories">Categories graded against a reference answer (FastChat's NEED_REF_CATS).</param>
public sealed record MtBenchPrompts(
    MtBenchPrompt SingleTurn,
    MtBenchPrompt SingleTurnMath,
    MtBenchPrompt SingleMultiTurn,
    MtBenchPrompt SingleMathMultiTurn,
    ImmutableArray<string> ReferenceCategories)
{
    /// <summary>FastChat's NEED_REF_CATS (fastchat/llm_judge/common.py).</summary>
    public static ImmutableArray<string> DefaultReferenceCategories { get; } = ["math", "reasoning", "coding"];

    /// <summary>Reads the four single-answer prompts from a <c>judge_prompts.jsonl</c>.</summary>
    /// <exception cref="InvalidDataException">A line is not JSON, or a prompt is missing or lacks its text (named).</exception>
    public static MtBenchPrompts Load(string path, ImmutableArray<string> referenceCategories)
    {
        var byName = new Dictionary<string, MtBenchPrompt>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                var name = root.GetProperty("name").GetString() ?? throw new InvalidDataException($"{path}:{lineNumber}: \"name\" is null");
                byName[name] = new MtBenchPrompt(name,
                    root.GetProperty("system_prompt").GetString() ?? throw new InvalidDataException($"{path}:{lineNumber}: \"system_prompt\" is null"),
                    root.GetProperty("prompt_template").GetString() ?? throw new InvalidDataException($"{path}:{lineNumber}: \"prompt_template\" is null"));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a judge prompt ({ex.Message})", ex);
            }
        }

        MtBenchPrompt Get(string name) => byName.GetValueOrDefault(name)
            ?? throw new InvalidDataException($"{path}: has no judge prompt named '{name}'");
        return new MtBenchPrompts(Get("single-v1"), Get("single-math-v1"), Get("single-v1-multi-turn"), Get("single-math-v1-multi-turn"), referenceCategories);
    }

    /// <summary>Whether items of <paramref name="category"/> are graded against their reference answers.</summary>
    public bool NeedsReference(string? category) => category is not null && ReferenceCategories.Contains(category, StringComparer.Ordinal);
}

/// <summary>What the MT-bench judge sees of one item: its user turns, the candidate's answers, and reference answers.</summary>
/// <param name="References">Reference answers by turn; empty when the category is not graded against one.</param>
public sealed record MtBenchConversation(ImmutableArray<string> Questions, ImmutableArray<string> Answers, ImmutableArray<string> References);

/// <summary>
/// MT-bench's single-answer grading, as FastChat's run_judge_single does it, with a local judge: the prompts verbatim,
/// a grammar that keeps the output in MT-bench's shape (a short explanation, then <c>[[rating]]</c>, rating 1–10) so it
/// always parses, and the rating read as FastChat reads it.
/// </summary>
public static partial class MtBenchJudge
{
    /// <summary>Longest explanation the grammar allows before <c>[[rating]]</c>, in characters.</summary>
    public const int MaxExplanationChars = 1000;

    /// <summary>Every character is at least one token, so this budget always reaches the rating.</summary>
    public const int MaxTokens = MaxExplanationChars + 16;

    /// <summary>
    /// An explanation without brackets (so the rating is the only <c>[[…]]</c>), at most
    /// <see cref="MaxExplanationChars"/> characters, then <c>[[1]]</c> … <c>[[10]]</c>.
    /// </summary>
    public static readonly string Grammar = string.Create(CultureInfo.InvariantCulture,
        $"root ::= explanation \"[[\" rating \"]]\"\nexplanation ::= [^\\[\\]]{{0,{MaxExplanationChars}}}\nrating ::= [1-9] | \"10\"");

    /// <summary>The judge's settings: greedy, seed 0, no stop sequence, the grammar.</summary>
    public static Suites.GenerationSettings Settings { get; } = new(MaxTokens, [], 0, 0, Grammar);

    /// <summary>
    /// The prompt that grades turn <paramref name="turn"/> (1-based; MT-bench has two). Chat form: the prompt's system
    /// message and the filled template as the user turn. Plain form: system, a blank line, the user text, a newline.
    /// </summary>
    /// <exception cref="ArgumentException">A turn MT-bench's prompts cannot grade, or a missing reference.</exception>
    public static (MtBenchPrompt Prompt, RenderedPrompt Rendered) Render(MtBenchPrompts prompts, MtBenchConversation conversation, int turn)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(conversation);
        var withReference = !conversation.References.IsDefaultOrEmpty;
        if (withReference && conversation.References.Length < turn)
        {
            throw new ArgumentException($"turn {turn} has no reference answer", nameof(conversation));
        }

        // As FastChat's format(**kwargs): both reference answers are offered; a template uses those it names.
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (withReference)
        {
            for (var i = 0; i < conversation.References.Length; i++)
            {
                values[string.Create(CultureInfo.InvariantCulture, $"ref_answer_{i + 1}")] = conversation.References[i];
            }
        }

        MtBenchPrompt prompt;
        switch (turn)
        {
            case 1:
                prompt = withReference ? prompts.SingleTurnMath : prompts.SingleTurn;
                values["question"] = conversation.Questions[0];
                values["answer"] = conversation.Answers[0];
                break;
            case 2:
                prompt = withReference ? prompts.SingleMathMultiTurn : prompts.SingleMultiTurn;
                values["question_1"] = conversation.Questions[0];
                values["question_2"] = conversation.Questions[1];
                values["answer_1"] = conversation.Answers[0];
                values["answer_2"] = conversation.Answers[1];
                break;
            default:
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"MT-bench's judge prompts grade turns 1 and 2, not turn {turn}"), nameof(turn));
        }

        var user = FormatPython(prompt.PromptTemplate, values);
        return (prompt, new RenderedPrompt(
            [new ChatMessage("system", prompt.SystemPrompt), new ChatMessage("user", user)],
            prompt.SystemPrompt + "\n\n" + user + "\n"));
    }

    /// <summary>
    /// Python's <c>str.format</c> with named fields only: <c>{name}</c> is replaced, <c>{{</c> and <c>}}</c> are literal
    /// braces. A name without a value is an error, as in Python.
    /// </summary>
    public static string FormatPython(string template, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(values);
        var text = new StringBuilder(template.Length);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                text.Append(c);
                i++;
            }
            else if (c == '{')
            {
                var end = template.IndexOf('}', i + 1);
                if (end < 0)
                {
                    throw new ArgumentException($"unclosed '{{' at offset {i} of a judge prompt", nameof(template));
                }

                var name = template[(i + 1)..end];
                text.Append(values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"the judge prompt names '{{{name}}}', which has no value", nameof(values)));
                i = end;
            }
            else if (c == '}')
            {
                throw new ArgumentException($"single '}}' at offset {i} of a judge prompt", nameof(template));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    [GeneratedRegex(@"\[\[(\d+\.?\d*)\]\]", RegexOptions.CultureInvariant)]
    private static partial Regex RatingRegex();

    [GeneratedRegex(@"\[(\d+\.?\d*)\]", RegexOptions.CultureInvariant)]
    private static partial Regex RatingBackupRegex();

    /// <summary>
    /// The rating as FastChat reads it (the first <c>[[n]]</c>, else the first <c>[n]</c>), or null when there is none
    /// or it is off the 1–10 scale.
    /// </summary>
    public static double? ParseRating(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var match = RatingRegex().Match(output);
        if (!match.Success)
        {
            match = RatingBackupRegex().Match(output);
        }

        return match.Success && double.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rating)
            && rating is >= 1 and <= 10
            ? rating
            : null;
    }
}

/// <summary>The item fields the MT-bench judge reads: the category, and the reference answer of each turn.</summary>
public static class MtBenchFields
{
    public const string Category = "category";

    /// <summary><c>ref_answer_1</c>, <c>ref_answer_2</c>: named as MT-bench's judge prompts name them.</summary>
    public static string Reference(int turn) => string.Create(CultureInfo.InvariantCulture, $"ref_answer_{turn}");
}
