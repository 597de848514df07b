using System.Collections.Immutable;
using System.Text.Json;

namespace Harness.Core.Suites;

/// <summary><c>fixed</c>: the job has a bar, the cheapest model that provably clears it wins. <c>open</c>: more capability keeps paying.</summary>
public enum SuiteKind { Fixed, Open }

/// <summary>How an item is put to the model.</summary>
public enum RequestKind
{
    /// <summary>Generate text until a stop sequence or the token budget.</summary>
    Generate,
    /// <summary>Rank the item's choices by the log-likelihood of each as a continuation.</summary>
    LogLikelihood,
}

/// <summary>A task suite loaded from <c>tasks/&lt;name&gt;/suite.yaml</c> and its <c>items.jsonl</c>.</summary>
/// <param name="Directory">Folder the suite was loaded from (scorer arguments that name files resolve against it).</param>
/// <param name="ContentSha256">Hash of suite.yaml, items.jsonl and the other files of the folder (e.g. schema.json), recorded in run.json.</param>
public sealed record Suite(
    string Name,
    int Version,
    SuiteKind Kind,
    string Description,
    RequestKind Request,
    PromptTemplate Prompt,
    GenerationSettings Generation,
    ImmutableArray<ScorerSpec> Scorers,
    Requirement? Requirement,
    ImmutableArray<SuiteItem> Items,
    string Directory,
    string ContentSha256);

/// <summary>One evaluation item. <paramref name="Fields"/> feed <c>{{field}}</c> substitution.</summary>
/// <param name="Target">The reference answer (string form), if any.</param>
/// <param name="Choices">For log-likelihood items: the candidate continuations; <paramref name="Target"/> is one of them.</param>
public sealed record SuiteItem(
    string Id,
    ImmutableSortedDictionary<string, JsonElement> Fields,
    string? Target,
    ImmutableArray<string> Choices);

/// <param name="Template">User-turn text with <c>{{field}}</c> placeholders, or a Liquid template (<see cref="Engine"/>).</param>
/// <param name="System">Optional system message (chat templates only; prepended to plain text otherwise).</param>
/// <param name="FewShot">Worked examples rendered before the item with the same template, each followed by its target.</param>
/// <param name="FewShotSeparator">Text between examples in the plain (template-free) rendering; also after each earlier
/// turn's answer in a conversation.</param>
/// <param name="Followups">Templates of the user turns after the first (<see cref="Template"/>), for multi-turn items
/// (generate only): turn k is sent with the whole conversation so far. Empty: one turn.</param>
/// <param name="Continuation">Partial scoring (log-likelihood only, e.g. Winogrande): null for ordinary multiple
/// choice. When set, each choice is put into <paramref name="Template"/> through the reserved <c>{{choice}}</c>
/// placeholder, and this template, rendered with the item's fields, is the one continuation scored under each of
/// those contexts.</param>
public sealed record PromptTemplate(
    string Template,
    string? System,
    ImmutableArray<SuiteItem> FewShot,
    string FewShotSeparator,
    ImmutableArray<string> Followups = default,
    string? Continuation = null)
{
    /// <summary>The placeholder a partial-scoring template puts each choice through.</summary>
    public const string ChoicePlaceholder = "choice";

    /// <summary>The syntax of <see cref="Template"/>; <see cref="PromptEngine.Placeholders"/> unless suite.yaml says <c>prompt.engine: liquid</c>.</summary>
    public PromptEngine Engine { get; init; } = PromptEngine.Placeholders;

    public ImmutableArray<string> Followups { get; init; } = Followups.IsDefault ? [] : Followups;

    /// <summary>How many user turns an item has: 1 + <see cref="Followups"/>.</summary>
    public int TurnCount => 1 + Followups.Length;

    /// <summary>The template of user turn <paramref name="turn"/> (0-based).</summary>
    public string TurnTemplate(int turn) => turn == 0 ? Template : Followups[turn - 1];
}

/// <summary>Decoding settings. Explicit and recorded; defaults are documented in docs/suite-format.md.</summary>
/// <param name="Temperature">0 means greedy (argmax).</param>
/// <param name="Seed">Sampler seed; recorded even when greedy.</param>
/// <param name="Grammar">A llama.cpp GBNF grammar (root rule <c>root</c>) the output must match; null: unconstrained.
/// The judge scorer sets one so its verdicts always parse.</param>
public sealed record GenerationSettings(
    int MaxTokens,
    ImmutableArray<string> Stop,
    double Temperature,
    int Seed,
    string? Grammar = null);

/// <summary>A scorer by registered name, with its arguments as written in the suite.</summary>
public sealed record ScorerSpec(string Name, ImmutableSortedDictionary<string, JsonElement> Arguments);

/// <summary>The bar of a fixed-requirement suite.</summary>
/// <param name="MinPassRate">Pass rate the model must provably clear (lower confidence bound), in [0, 1].</param>
/// <param name="Confidence">Two-sided confidence level of the interval, e.g. 0.95.</param>
/// <param name="MaxP95Latency">Optional ceiling on the 95th percentile of per-item latency.</param>
/// <param name="MaxJoulesPerItem">Optional ceiling on energy per item.</param>
/// <param name="Sequential">Evaluate items in a seeded random order and stop as soon as the anytime-valid sequential
/// verdict decides (docs/statistics.md); false: every item, judged by the fixed-n rule.</param>
public sealed record Requirement(
    double MinPassRate,
    double Confidence,
    TimeSpan? MaxP95Latency,
    double? MaxJoulesPerItem,
    bool Sequential = false);

/// <summary>An error in a suite or manifest file, with the file and 1-based line.</summary>
public sealed class InputFileException(string filePath, int? line, string problem)
    : Exception(line is null ? $"{filePath}: {problem}" : $"{filePath}:{line}: {problem}")
{
    public string FilePath { get; } = filePath;
    public int? Line { get; } = line;
    public string Problem { get; } = problem;
}
