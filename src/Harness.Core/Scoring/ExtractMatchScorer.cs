using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>extract_match</c>: lm-evaluation-harness's <c>regex</c> filter followed by its <c>exact_match</c> metric, so a
/// catalogue suite scores as lm-eval does. The strict filter (<c>pattern</c>) decides; the flexible one
/// (<c>flexible_pattern</c>, when given) is scored the same way and recorded independently, as lm-eval reports each
/// filter as its own figure (so, unlike other scorers, flexible can fail where strict passes).
/// </summary>
/// <remarks>
/// Filter: all non-overlapping matches of the pattern; the one at <c>group_select</c> (negative counts from the end);
/// with no capture group the whole match, with one group that group, with several the first non-empty group; the
/// result stripped of whitespace. No match, an index past the matches or only empty groups give <c>fallback</c>.
/// Metric: each of <c>regexes_to_ignore</c> is removed from both answer and target in order, then optional lower
/// casing and removal of ASCII punctuation; the two strings must then be equal.
/// </remarks>
public sealed class ExtractMatchScorer : IScorer
{
    public const string ScorerName = "extract_match";

    /// <summary>lm-eval's RegexFilter fallback.</summary>
    public const string DefaultFallback = "[invalid]";

    /// <summary>Python's string.punctuation.</summary>
    private const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private readonly Extraction strict;
    private readonly Extraction? flexible;
    private readonly ImmutableArray<Regex> ignored;
    private readonly bool ignoreCase;
    private readonly bool ignorePunctuation;

    /// <summary>One regex filter: pattern, which match, and the fallback when there is none.</summary>
    public sealed record Extraction(Regex Pattern, int GroupSelect, string Fallback);

    public ExtractMatchScorer(Extraction strict, Extraction? flexible, ImmutableArray<Regex> regexesToIgnore, bool ignoreCase, bool ignorePunctuation)
    {
        this.strict = strict;
        this.flexible = flexible;
        ignored = regexesToIgnore.IsDefault ? [] : regexesToIgnore;
        this.ignoreCase = ignoreCase;
        this.ignorePunctuation = ignorePunctuation;
    }

    public string Name => ScorerName;

    /// <summary>Compiles a pattern as the scorer does: culture-invariant, with <see cref="RegexScorer.MatchTimeout"/>.</summary>
    public static Regex Compile(string pattern) => new(pattern, RegexOptions.CultureInvariant, RegexScorer.MatchTimeout);

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        try
        {
            var target = Normalize(input.Item.Target);
            var answer = Extract(strict, input.Output);
            var normalized = Normalize(answer);
            var passed = normalized == target;
            var flexibleAnswer = flexible is null ? answer : Extract(flexible, input.Output);
            var flexiblePassed = flexible is null ? passed : Normalize(flexibleAnswer) == target;
            string? explanation = null;
            if (!passed)
            {
                explanation = $"expected {TextNormalizer.Quote(target)}, got {TextNormalizer.Quote(normalized)}";
                if (flexiblePassed)
                {
                    explanation += "; flexible extraction passed";
                }
            }

            return new Score(Name, passed ? 1.0 : 0.0, answer, flexiblePassed ? 1.0 : 0.0, flexibleAnswer, explanation);
        }
        catch (RegexMatchTimeoutException)
        {
            return new Score(Name, 0.0, null, 0.0, null,
                string.Create(CultureInfo.InvariantCulture, $"pattern took longer than {RegexScorer.MatchTimeout.TotalSeconds:0}s on this output"));
        }
    }

    /// <summary>The filter's answer for <paramref name="output"/> (the fallback when nothing is extracted).</summary>
    public static string Extract(Extraction extraction, string output)
    {
        var matches = extraction.Pattern.Matches(output);
        var index = extraction.GroupSelect < 0 ? matches.Count + extraction.GroupSelect : extraction.GroupSelect;
        if (index < 0 || index >= matches.Count)
        {
            return extraction.Fallback;
        }

        var match = matches[index];
        // Python's findall: the whole match without groups, the group with one, the tuple of all groups with more.
        var groups = extraction.Pattern.GetGroupNumbers().Where(n => n > 0).ToArray();
        string value;
        if (groups.Length == 0)
        {
            value = match.Value;
        }
        else if (groups.Length == 1)
        {
            value = match.Groups[groups[0]].Value;
        }
        else
        {
            var first = groups.Select(n => match.Groups[n].Value).FirstOrDefault(v => v.Length > 0);
            if (first is null)
            {
                return extraction.Fallback;
            }

            value = first;
        }

        return PythonStrip(value);
    }

    /// <summary>The text exact_match compares: ignored regexes removed, then case and punctuation as configured.</summary>
    public string Normalize(string text)
    {
        foreach (var regex in ignored)
        {
            text = regex.Replace(text, string.Empty);
        }

        if (ignoreCase)
        {
            text = text.ToLowerInvariant();
        }

        if (ignorePunctuation)
        {
            var kept = new StringBuilder(text.Length);
            foreach (var c in text)
            {
                if (!AsciiPunctuation.Contains(c, StringComparison.Ordinal))
                {
                    kept.Append(c);
                }
            }

            text = kept.ToString();
        }

        return text;
    }

    // Python's str.strip() also strips the information separators U+001C..U+001F, which .NET's Trim keeps.
    private static string PythonStrip(string text) =>
        text.Trim().Trim('\u001c', '\u001d', '\u001e', '\u001f').Trim();
}

public sealed class ExtractMatchScorerFactory : IScorerFactory
{
    public string Name => ExtractMatchScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        ExtractMatchScorer.ScorerName,
        "lm-evaluation-harness's `regex` filter followed by its `exact_match`, so a catalogue suite scores as lm-eval "
        + "does. The strict filter decides; the flexible one is scored the same way and recorded independently, as lm-eval "
        + "reports each filter as its own figure (so flexible can fail where strict passes). Patterns are .NET regular "
        + "expressions (culture-invariant, 1 s match timeout, after which the item fails).",
        [
            new("pattern", ScorerArgumentType.Text, "strict filter: all matches are found and `group_select` picks one; no capture group: the whole match, one: that group, several: the first non-empty group; the result is whitespace-stripped") { Required = true },
            new("group_select", ScorerArgumentType.WholeNumber, "which match; negative counts from the last (`-1`: the last)") { Default = "0" },
            new("fallback", ScorerArgumentType.Text, "the answer when nothing matches or `group_select` is past the matches") { Default = "\"[invalid]\"" },
            new("flexible_pattern", ScorerArgumentType.Text, "the recorded second filter; without it flexible equals strict"),
            new("flexible_group_select", ScorerArgumentType.WholeNumber, "`group_select` of the flexible filter (needs `flexible_pattern`)") { Default = "0" },
            new("ignore_case", ScorerArgumentType.Boolean, "lower-case answer and target before comparing") { Default = "false" },
            new("ignore_punctuation", ScorerArgumentType.Boolean, "remove ASCII punctuation (Python's `string.punctuation`) from both") { Default = "false" },
            new("regexes_to_ignore", ScorerArgumentType.TextList, "patterns removed, in order, from both answer and target before comparing") { Default = "[]" },
        ],
        """{"pattern": "#### (\\-?[0-9\\.\\,]+)", "regexes_to_ignore": [",", "\\$"], "ignore_case": true}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        var fallback = args.OptionalString("fallback") ?? ExtractMatchScorer.DefaultFallback;
        var strict = new ExtractMatchScorer.Extraction(Compile(args, "pattern", args.RequiredString("pattern")), GroupSelect(args, "group_select"), fallback);
        ExtractMatchScorer.Extraction? flexible = null;
        if (args.OptionalString("flexible_pattern") is { } flexiblePattern)
        {
            flexible = new ExtractMatchScorer.Extraction(Compile(args, "flexible_pattern", flexiblePattern), GroupSelect(args, "flexible_group_select"), fallback);
        }
        else if (args.Has("flexible_group_select"))
        {
            throw args.Invalid("flexible_group_select", "needs 'flexible_pattern'");
        }

        var ignored = args.StringList("regexes_to_ignore", [])
            .Select(pattern => Compile(args, "regexes_to_ignore", pattern))
            .ToImmutableArray();
        return new ExtractMatchScorer(strict, flexible, ignored, args.Bool("ignore_case", defaultValue: false), args.Bool("ignore_punctuation", defaultValue: false));
    }

    private static Regex Compile(ScorerArguments args, string name, string pattern)
    {
        if (pattern.Length == 0)
        {
            throw args.Invalid(name, "must not be empty");
        }

        try
        {
            return ExtractMatchScorer.Compile(pattern);
        }
        catch (RegexParseException ex)
        {
            throw args.Invalid(name, $"has an invalid regular expression {TextNormalizer.Quote(pattern)}: {ex.Message}");
        }
    }

    private static int GroupSelect(ScorerArguments args, string name) => args.Raw(name) switch
    {
        null => 0,
        { ValueKind: JsonValueKind.Number } number when number.TryGetInt32(out var index) => index,
        _ => throw args.Invalid(name, "must be a whole number (negative counts from the last match)"),
    };
}
