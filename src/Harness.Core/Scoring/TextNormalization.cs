using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Harness.Core.Scoring;

/// <summary>
/// Text clean-ups a scorer applies to both output and target before comparing. Applied in a fixed order
/// (lowercase, strip punctuation, collapse whitespace, trim) whatever order a suite lists them in.
/// </summary>
[Flags]
public enum TextNormalization
{
    None = 0,
    Trim = 1,
    Lowercase = 2,
    CollapseWhitespace = 4,
    /// <summary>Removes Unicode punctuation and symbols (<c>.,;:!?"'()$%</c> …).</summary>
    StripPunctuation = 8,
}

internal static class TextNormalizer
{
    public const string ArgumentName = "normalize";

    private static readonly ImmutableArray<string> DefaultNames = ["trim"];

    /// <summary>The <c>normalize</c> argument of the scorers that compare text.</summary>
    public static ScorerArgument Argument { get; } = new(
        ArgumentName, ScorerArgumentType.TextList,
        "clean-ups applied to both output and target before comparing, always in the order lowercase, strip_punctuation "
        + "(Unicode punctuation and symbols), collapse_whitespace, trim; `[]` compares as written")
    {
        Default = "[trim]",
        AllowedValues = ["trim", "lowercase", "collapse_whitespace", "strip_punctuation"],
        AllowedValuesLabel = "steps",
    };

    /// <remarks>The steps were checked against <see cref="Argument"/> when <paramref name="arguments"/> was built.</remarks>
    public static TextNormalization Parse(ScorerArguments arguments)
    {
        var result = TextNormalization.None;
        foreach (var name in arguments.StringList(ArgumentName, DefaultNames))
        {
            result |= name switch
            {
                "trim" => TextNormalization.Trim,
                "lowercase" => TextNormalization.Lowercase,
                "collapse_whitespace" => TextNormalization.CollapseWhitespace,
                "strip_punctuation" => TextNormalization.StripPunctuation,
                _ => throw arguments.Invalid(ArgumentName, $"has unknown step '{name}'"),
            };
        }

        return result;
    }

    public static string Apply(string text, TextNormalization normalization)
    {
        if (normalization.HasFlag(TextNormalization.Lowercase))
        {
            text = text.ToLowerInvariant();
        }

        if (normalization.HasFlag(TextNormalization.StripPunctuation))
        {
            text = StripPunctuation(text);
        }

        if (normalization.HasFlag(TextNormalization.CollapseWhitespace))
        {
            text = CollapseWhitespace(text);
        }

        if (normalization.HasFlag(TextNormalization.Trim))
        {
            text = text.Trim();
        }

        return text;
    }

    public static string StripPunctuation(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (!IsPunctuationOrSymbol(category))
            {
                builder.Append(rune.ToString());
            }
        }

        return builder.ToString();
    }

    public static string CollapseWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        var inWhitespace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                if (!inWhitespace)
                {
                    builder.Append(' ');
                }

                inWhitespace = true;
            }
            else
            {
                builder.Append(c);
                inWhitespace = false;
            }
        }

        return builder.ToString();
    }

    /// <summary>The first line with any non-whitespace character, or empty.</summary>
    public static string FirstNonEmptyLine(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                return line.TrimEnd('\r');
            }
        }

        return string.Empty;
    }

    /// <summary>Short, single-line rendering of a value for explanations.</summary>
    public static string Quote(string? text, int maxChars = 60)
    {
        if (text is null)
        {
            return "nothing";
        }

        var flat = text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return flat.Length <= maxChars ? $"\"{flat}\"" : $"\"{flat[..maxChars]}…\"";
    }

    private static bool IsPunctuationOrSymbol(UnicodeCategory category) => category is
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
        or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
        or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol
        or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol;
}
