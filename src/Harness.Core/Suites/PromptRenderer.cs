using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Backends;

namespace Harness.Core.Suites;

/// <summary>
/// Turns a suite item into the prompt the model sees, both as chat turns and as template-free text.
/// Pure and culture-invariant: the same suite and item always give the same bytes.
/// </summary>
public static class PromptRenderer
{
    /// <summary>Renders <paramref name="item"/> with the suite's template, system message and few-shot examples.</summary>
    /// <exception cref="ArgumentException">The template names a field the item (or a few-shot example) lacks or cannot print.</exception>
    public static RenderedPrompt Render(Suite suite, SuiteItem item) => Render(suite.Prompt, item);

    /// <summary>
    /// Chat form: optional system turn, a user/assistant pair per few-shot example, then the item as the final
    /// user turn. Plain form: <c>system + "\n"</c> if present, each example as <c>template + target + separator</c>,
    /// then the item's template.
    /// </summary>
    /// <remarks>A partial-scoring prompt (<see cref="PromptTemplate.Continuation"/> set) renders the context of the
    /// item's first choice here; <see cref="RenderChoiceContexts"/> gives every choice's.</remarks>
    public static RenderedPrompt Render(PromptTemplate prompt, SuiteItem item)
    {
        if (prompt.Continuation is not null)
        {
            var first = item.Choices.IsDefaultOrEmpty
                ? throw new ArgumentException($"item '{item.Id}' has no choices for the {{{{{PromptTemplate.ChoicePlaceholder}}}}} placeholder", nameof(item))
                : item.Choices[0];
            return RenderWithChoice(prompt, item, first);
        }
        return RenderWithChoice(prompt, item, choice: null);
    }

    /// <summary>
    /// Partial scoring: one context per choice, in the item's choice order, each the template with the choice put
    /// into <c>{{choice}}</c>; the continuation scored under all of them is <see cref="RenderContinuation"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is not a partial-scoring prompt, or a field is missing.</exception>
    public static ImmutableArray<RenderedPrompt> RenderChoiceContexts(PromptTemplate prompt, SuiteItem item)
    {
        if (prompt.Continuation is null)
        {
            throw new ArgumentException("the prompt has no continuation template (not a partial-scoring suite)", nameof(prompt));
        }
        return [.. item.Choices.Select(choice => RenderWithChoice(prompt, item, choice))];
    }

    /// <summary>The partial-scoring continuation with the item's fields substituted.</summary>
    /// <exception cref="ArgumentException">The prompt is not a partial-scoring prompt, or a field is missing.</exception>
    public static string RenderContinuation(PromptTemplate prompt, SuiteItem item) =>
        RenderTemplate(prompt.Continuation
            ?? throw new ArgumentException("the prompt has no continuation template (not a partial-scoring suite)", nameof(prompt)), item);

    private static RenderedPrompt RenderWithChoice(PromptTemplate prompt, SuiteItem item, string? choice)
    {
        var messages = ImmutableArray.CreateBuilder<ChatMessage>();
        var plain = new StringBuilder();
        if (prompt.System is not null)
        {
            messages.Add(new ChatMessage("system", prompt.System));
            plain.Append(prompt.System).Append('\n');
        }
        foreach (var example in prompt.FewShot)
        {
            var question = RenderTemplate(prompt, example);
            var answer = example.Target
                ?? throw new ArgumentException($"few-shot example '{example.Id}' has no target", nameof(prompt));
            messages.Add(new ChatMessage("user", question));
            messages.Add(new ChatMessage("assistant", answer));
            plain.Append(question).Append(answer).Append(prompt.FewShotSeparator);
        }
        var text = choice is null ? RenderTemplate(prompt, item) : RenderTemplate(prompt.Template, item, choice);
        messages.Add(new ChatMessage("user", text));
        plain.Append(text);
        return new RenderedPrompt(messages.ToImmutable(), plain.ToString());
    }

    /// <summary>Renders the item with the prompt's template in the prompt's engine.</summary>
    /// <exception cref="ArgumentException">The template uses a field the item lacks, or (Liquid) fails on the item.</exception>
    public static string RenderTemplate(PromptTemplate prompt, SuiteItem item) => prompt.Engine switch
    {
        // Parsed per call: a small template parses in microseconds, far below one model call, and the record stays plain data.
        PromptEngine.Liquid => LiquidTemplates.Render(prompt.Template, item),
        _ => RenderTemplate(prompt.Template, item),
    };

    /// <summary>Why <paramref name="prompt"/>'s template cannot be used with any item (a syntax error), or null.</summary>
    public static string? TemplateProblem(PromptTemplate prompt)
    {
        if (prompt.Engine == PromptEngine.Liquid)
        {
            return LiquidTemplates.TryParse(prompt.Template, out _, out var error) ? null : $"the liquid template does not parse: {error}";
        }
        var malformed = TemplatePlaceholders.FirstMalformed(prompt.Template);
        return malformed < 0 ? null : string.Create(CultureInfo.InvariantCulture, $"the template has a '{{{{' at offset {malformed} that is not a {{{{field}}}} placeholder");
    }

    /// <summary>
    /// Turn <c>answers.Count</c> (0-based) of a conversation: <see cref="Render(PromptTemplate, SuiteItem)"/> (the first
    /// turn), then for each earlier turn its answer and the next user turn. Chat form: the answers as <c>assistant</c>
    /// turns between the <c>user</c> turns. Plain form: each answer followed by the few-shot separator, then the next
    /// user turn, exactly as a few-shot example's target is.
    /// </summary>
    /// <param name="answers">The model's answers to the turns before this one, in order.</param>
    /// <exception cref="ArgumentException">More answers than the suite has turns, or a placeholder without a field.</exception>
    public static RenderedPrompt RenderTurn(PromptTemplate prompt, SuiteItem item, IReadOnlyList<string> answers)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(answers);
        if (answers.Count >= prompt.TurnCount)
        {
            throw new ArgumentException($"turn {answers.Count + 1} asked of a suite with {prompt.TurnCount} turns", nameof(answers));
        }

        var first = Render(prompt, item);
        if (answers.Count == 0)
        {
            return first;
        }

        var messages = first.Messages.ToBuilder();
        var plain = new StringBuilder(first.PlainText);
        for (var turn = 1; turn <= answers.Count; turn++)
        {
            var text = RenderTemplate(prompt.TurnTemplate(turn), item);
            messages.Add(new ChatMessage("assistant", answers[turn - 1]));
            messages.Add(new ChatMessage("user", text));
            plain.Append(answers[turn - 1]).Append(prompt.FewShotSeparator).Append(text);
        }

        return new RenderedPrompt(messages.ToImmutable(), plain.ToString());
    }

    /// <summary>Substitutes the item's fields into <paramref name="template"/> (the <c>{{field}}</c> engine).</summary>
    /// <exception cref="ArgumentException">A placeholder has no printable field.</exception>
    public static string RenderTemplate(string template, SuiteItem item) => RenderTemplate(template, item, choice: null);

    // With a choice, {{choice}} is the choice and never a field (the parser reserves the name in such suites).
    private static string RenderTemplate(string template, SuiteItem item, string? choice) =>
        TemplatePlaceholders.Substitute(template, name =>
        {
            if (choice is not null && name == PromptTemplate.ChoicePlaceholder)
            {
                return choice;
            }
            if (!item.Fields.TryGetValue(name, out var value))
            {
                throw new ArgumentException($"item '{item.Id}' has no field '{name}' for placeholder {{{{{name}}}}}", nameof(item));
            }
            return FormatField(value)
                ?? throw new ArgumentException($"item '{item.Id}' field '{name}' is {value.ValueKind}; only strings, numbers and booleans can be substituted", nameof(item));
        });

    /// <summary>
    /// Strings print raw; numbers print as their JSON text (which is culture-free by definition) and booleans as
    /// <c>true</c>/<c>false</c>. Null, objects and arrays have no agreed text form, so they are refused.
    /// </summary>
    internal static string? FormatField(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}
