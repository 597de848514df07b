using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tasks.Import;

/// <summary>
/// <c>harness tasks new</c>: a suite folder with one example item and a suite.yaml whose comments explain each key.
/// It loads and validates as written, so a user edits a working suite rather than starting from a blank page.
/// </summary>
public static partial class SuiteScaffold
{
    [GeneratedRegex("^[a-z0-9-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes <c>&lt;tasks&gt;/&lt;name&gt;/</c> atomically; returns its full path.</summary>
    /// <exception cref="ImportException">A bad name, or the folder exists.</exception>
    public static string Create(string tasksDirectory, string name, SuiteKind kind, RequestKind request, IEnumerable<IScorerFactory> scorerFactories)
    {
        var destination = Path.GetFullPath(Path.Combine(tasksDirectory, name));
        if (!NameRegex().IsMatch(name))
        {
            throw new ImportException(new ImportProblem(name, "", "a suite name must match [a-z0-9-]+ (it names the folder tasks/<name>)"));
        }
        if (Directory.Exists(destination))
        {
            throw new ImportException(new ImportProblem(destination, "", "already exists; choose another name"));
        }
        var files = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, byte[]>
        {
            [SuiteLoader.SuiteFileName] = Utf8.GetBytes(SuiteYaml(name, kind, request)),
            [SuiteLoader.ItemsFileName] = Utf8.GetBytes(ItemsJsonl(request)),
        });
        SuiteFolder.WriteAtomically(destination, files, force: false, scorerFactories, destination);
        return destination;
    }

    /// <summary>The commented suite.yaml.</summary>
    public static string SuiteYaml(string name, SuiteKind kind, RequestKind request)
    {
        var y = new StringBuilder();
        y.Append("# A task suite: this file says how to prompt and score; items.jsonl holds the items, one JSON object a line.\n");
        y.Append("# Every key is described in docs/suite-format.md. Check the folder with `harness validate`.\n\n");
        y.Append("# The folder's name: lowercase letters, digits and '-'.\n");
        y.Append("name: ").Append(name).Append('\n');
        y.Append("# Bump it whenever the items, prompt, generation or scoring change: results record it.\n");
        y.Append("version: 1\n");
        y.Append("# fixed: a model passes or fails against `requirement` (the cheapest that provably clears the bar wins).\n");
        y.Append("# open: no bar; models are ranked by their mean score.\n");
        y.Append("kind: ").Append(kind == SuiteKind.Fixed ? "fixed" : "open").Append('\n');
        y.Append("description: \"What this suite checks, in one sentence.\"\n");
        y.Append("# generate: the model writes an answer and the scorers judge it.\n");
        y.Append("# loglikelihood: the model ranks each item's `choices` as continuations of the prompt (no text is generated).\n");
        y.Append("request: ").Append(request == RequestKind.Generate ? "generate" : "loglikelihood").Append('\n');
        y.Append("prompt:\n");
        y.Append("  # A system message for chat models (put before the prompt for base models); null for none.\n");
        y.Append("  system: null\n");
        y.Append("  # placeholders: {{field}} is replaced by that field of the item (strings, numbers, booleans).\n");
        y.Append("  # liquid: Liquid templates with loops, conditions and filters over every field, e.g.\n");
        y.Append("  #   {% for c in choices %}{{ forloop.index }}. {{ c }}\\n{% endfor %}   or   {{ options | join: \", \" }}\n");
        y.Append("  engine: placeholders\n");
        y.Append("  # The user turn. An unknown field is an error when the suite loads, never an empty string.\n");
        y.Append("  template: \"Question: {{question}}\\nAnswer:\"\n");
        y.Append("  # Worked examples rendered before every item with the same template, each followed by its target, e.g.\n");
        y.Append("  #   - { question: \"What is 2+2?\", target: \"").Append(request == RequestKind.Generate ? "4" : " 4").Append("\" }\n");
        y.Append("  fewshot: []\n");
        y.Append("  # Text after each example in the plain (base-model) rendering.\n");
        y.Append("  fewshot_separator: \"\\n\"\n");
        if (request == RequestKind.Generate)
        {
            y.Append("# Decoding, recorded with every result.\n");
            y.Append("generation:\n");
            y.Append("  # Most tokens generated per item (required: no hidden default).\n");
            y.Append("  max_tokens: 32\n");
            y.Append("  # Generation stops at the first of these strings; [] for none.\n");
            y.Append("  stop: [\"\\n\"]\n");
            y.Append("  # 0 is greedy (the same answer every time).\n");
            y.Append("  temperature: 0\n");
            y.Append("  # The sampler's seed, recorded even when greedy.\n");
            y.Append("  seed: 0\n");
        }
        y.Append("# The first scorer decides pass/fail and the others are recorded beside it. Built in: numeric, exact, choice,\n");
        y.Append("# json, similarity, regex, token_f1, embedding_similarity, judge (arguments in docs/suite-format.md).\n");
        y.Append("scorers:\n");
        if (request == RequestKind.Generate)
        {
            y.Append("  - name: exact\n");
            y.Append("    # Applied to output and target before comparing: trim, lowercase, collapse_whitespace, strip_punctuation.\n");
            y.Append("    args: { normalize: [trim] }\n");
        }
        else
        {
            y.Append("  # choice: passes when the target is the most likely choice.\n");
            y.Append("  - name: choice\n");
        }
        if (kind == SuiteKind.Fixed)
        {
            y.Append("# The bar (fixed suites only).\n");
            y.Append("requirement:\n");
            y.Append("  # The lower bound of the pass rate's confidence interval must clear this.\n");
            y.Append("  min_pass_rate: 0.9\n");
            y.Append("  # Two-sided confidence level of that interval.\n");
            y.Append("  confidence: 0.95\n");
            y.Append("  # Optional ceilings: p95_latency_ms: 2000, max_joules_per_item: 5\n");
        }
        return y.ToString();
    }

    private static string ItemsJsonl(RequestKind request) => request == RequestKind.Generate
        ? "{\"id\":\"example-1\",\"question\":\"What is the capital of France?\",\"target\":\"Paris\"}\n"
        : "{\"id\":\"example-1\",\"question\":\"What is the capital of France?\",\"target\":\" Paris\",\"choices\":[\" Paris\",\" Rome\",\" Berlin\"]}\n";
}
