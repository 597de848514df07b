using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>regex</c>: extracts a group with <c>pattern</c> and compares it with the target (normalized as in
/// <c>exact</c>). Strict: the pattern must match the whole trimmed output. Flexible: its first match anywhere.
/// Arguments: <c>pattern</c> (required), <c>group</c> (number or name, default 0), <c>ignore_case</c>
/// (default false), <c>normalize</c> (default [trim]).
/// </summary>
public sealed class RegexScorer : IScorer
{
    public const string ScorerName = "regex";

    /// <summary>Bounds a pathological pattern on a long output; the item fails instead of hanging the run.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    private readonly Regex anywhere;
    private readonly Regex whole;
    private readonly string group;
    private readonly TextNormalization normalization;

    /// <param name="group">Group number (as text) or name.</param>
    /// <exception cref="ArgumentException">The pattern does not compile or has no such group.</exception>
    public RegexScorer(string pattern, string group, bool ignoreCase, TextNormalization normalization)
    {
        var options = RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        anywhere = new Regex(pattern, options, MatchTimeout);
        whole = new Regex($@"\A(?:{pattern})\z", options, MatchTimeout);
        if (anywhere.GroupNumberFromName(group) < 0)
        {
            throw new ScorerArgumentException(ScorerName, "group", $"argument 'group' names group '{group}', which the pattern does not have");
        }

        this.group = group;
        this.normalization = normalization;
    }

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        var target = TextNormalizer.Apply(input.Item.Target, normalization);
        string? answer;
        string? flexibleAnswer;
        try
        {
            answer = Extract(whole.Match(input.Output.Trim()));
            flexibleAnswer = Extract(anywhere.Match(input.Output));
        }
        catch (RegexMatchTimeoutException)
        {
            return new Score(Name, 0.0, null, 0.0, null, $"pattern took longer than {MatchTimeout.TotalSeconds:0}s on this output");
        }

        return Scores.Binary(
            Name,
            answer == target,
            answer,
            flexibleAnswer == target,
            flexibleAnswer,
            () => answer is null
                ? $"pattern does not match the whole output (expected {TextNormalizer.Quote(target)})"
                : $"expected {TextNormalizer.Quote(target)}, got {TextNormalizer.Quote(answer)}");
    }

    private string? Extract(Match match)
    {
        var captured = match.Success ? match.Groups[group] : null;
        return captured is { Success: true } ? TextNormalizer.Apply(captured.Value, normalization) : null;
    }
}

public sealed class RegexScorerFactory : IScorerFactory
{
    public string Name => RegexScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        RegexScorer.ScorerName,
        "Extracts a group with `pattern` and compares it with the target, both normalized as in `exact`. Strict: the "
        + "pattern matches the whole trimmed output. Flexible: its first match anywhere. .NET regular expressions, "
        + "culture-invariant, 1 s match timeout (then the item fails).",
        [
            new("pattern", ScorerArgumentType.Text, "the regular expression") { Required = true },
            new("group", ScorerArgumentType.WholeNumberOrText, "the group compared: its number or its name; 0 is the whole match") { Default = "0" },
            new("ignore_case", ScorerArgumentType.Boolean, "match the pattern ignoring case (the comparison follows `normalize`)") { Default = "false" },
            TextNormalizer.Argument,
        ],
        """{"pattern": "answer: (?<n>\\d+)", "group": "n"}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        var pattern = args.RequiredString("pattern");
        var group = args.Raw("group") switch
        {
            null => "0",
            { ValueKind: JsonValueKind.Number } number when number.TryGetInt32(out var index) && index >= 0 => index.ToString(System.Globalization.CultureInfo.InvariantCulture),
            { ValueKind: JsonValueKind.String } name when name.GetString() is { Length: > 0 } text => text,
            _ => throw args.Invalid("group", "must be a group number (0 or more) or a group name"),
        };
        var ignoreCase = args.Bool("ignore_case", defaultValue: false);
        var normalization = TextNormalizer.Parse(args);
        try
        {
            return new RegexScorer(pattern, group, ignoreCase, normalization);
        }
        catch (RegexParseException ex)
        {
            throw args.Invalid("pattern", $"is not a valid regular expression: {ex.Message}");
        }
    }
}
