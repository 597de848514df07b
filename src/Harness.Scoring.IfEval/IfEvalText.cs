using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Harness.Scoring.IfEval;

/// <summary>
/// The text helpers of IFEval's instructions_util (lm-eval's copy), reproduced with .NET regexes, plus the few Python
/// string semantics the checkers rely on (<c>str.strip</c>, <c>split</c>, <c>isupper</c>, <c>\w</c>).
/// </summary>
internal static class IfEvalText
{
    /// <summary>Python's <c>\w</c> on str patterns: letters, anything numeric (Nd, Nl, No) and '_'. .NET's own <c>\w</c>
    /// differs (it adds non-spacing marks and all connector punctuation, and leaves out Nl/No).</summary>
    public const string PyWordClass = @"[\p{L}\p{N}_]";

    /// <summary>Python's <c>\b</c> under that <c>\w</c>.</summary>
    public const string PyWordBoundary = $@"(?:(?<={PyWordClass})(?!{PyWordClass})|(?<!{PyWordClass})(?={PyWordClass}))";

    private static readonly Regex Words = new($"{PyWordClass}+", RegexOptions.CultureInvariant);

    /// <summary><c>count_words</c>: nltk's <c>RegexpTokenizer(r"\w+")</c>, i.e. runs of Python word characters.</summary>
    public static int CountWords(string text) => Words.Count(text);

    /// <summary>Python <c>str.isspace</c> per character: .NET whitespace plus the separators U+001C–U+001F.</summary>
    public static bool IsPySpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Python <c>str.strip()</c>.</summary>
    public static string Strip(string text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && IsPySpace(text[start]))
        {
            start++;
        }

        while (end > start && IsPySpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    /// <summary>Python <c>str.split()</c>: runs of whitespace separate, no empty pieces.</summary>
    public static List<string> SplitWhitespace(string text)
    {
        var pieces = new List<string>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var space = i == text.Length || IsPySpace(text[i]);
            if (space && start >= 0)
            {
                pieces.Add(text[start..i]);
                start = -1;
            }
            else if (!space && start < 0)
            {
                start = i;
            }
        }

        return pieces;
    }

    /// <summary>Python <c>str.isupper()</c>: at least one cased character and no lower- or title-case one.</summary>
    public static bool IsUpper(string text) => HasOnlyCase(text, UnicodeCategory.UppercaseLetter);

    /// <summary>Python <c>str.islower()</c>: at least one cased character and no upper- or title-case one.</summary>
    public static bool IsLower(string text) => HasOnlyCase(text, UnicodeCategory.LowercaseLetter);

    private static bool HasOnlyCase(string text, UnicodeCategory wanted)
    {
        var seen = false;
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter)
            {
                if (category != wanted)
                {
                    return false;
                }

                seen = true;
            }
        }

        return seen;
    }

    /// <summary>Python <c>str.lower()</c> (simple case mapping; Python's special full mappings such as 'İ' → "i̇" are
    /// the only difference and change no letter count the checkers make).</summary>
    public static string Lower(string text) => text.ToLowerInvariant();

    // split_into_sentences: the same rules, in the same order.
    private const string Alphabets = "([A-Za-z])";
    private const string Prefixes = "(Mr|St|Mrs|Ms|Dr)[.]";
    private const string Suffixes = "(Inc|Ltd|Jr|Sr|Co)";
    private const string Starters = @"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s|This\s|Wherever)";
    private const string Acronyms = "([A-Z][.][A-Z][.](?:[A-Z][.])?)";
    private const string Websites = "[.](com|net|org|io|gov|edu|me)";
    private const string Digits = "([0-9])";

    private static readonly (Regex Pattern, string Replacement)[] SentenceRules =
    [
        (new Regex(Prefixes), "${1}<prd>"),
        (new Regex(Websites), "<prd>${1}"),
        (new Regex(Digits + "[.]" + Digits), "${1}<prd>${2}"),
    ];

    private static readonly Regex MultipleDots = new(@"\.{2,}");

    private static readonly (Regex Pattern, string Replacement)[] SentenceRulesAfterDots =
    [
        (new Regex(@"\s" + Alphabets + "[.] "), " ${1}<prd> "),
        (new Regex(Acronyms + " " + Starters), "${1}<stop> ${2}"),
        (new Regex(Alphabets + "[.]" + Alphabets + "[.]" + Alphabets + "[.]"), "${1}<prd>${2}<prd>${3}<prd>"),
        (new Regex(Alphabets + "[.]" + Alphabets + "[.]"), "${1}<prd>${2}<prd>"),
        (new Regex(" " + Suffixes + "[.] " + Starters), " ${1}<stop> ${2}"),
        (new Regex(" " + Suffixes + "[.]"), " ${1}<prd>"),
        (new Regex(" " + Alphabets + "[.]"), " ${1}<prd>"),
    ];

    /// <summary><c>split_into_sentences</c>: the rule-based splitter of instructions_util.</summary>
    public static List<string> SplitIntoSentences(string text)
    {
        text = " " + text + "  ";
        text = text.Replace("\n", " ", StringComparison.Ordinal);
        foreach (var (pattern, replacement) in SentenceRules)
        {
            text = pattern.Replace(text, replacement);
        }

        text = MultipleDots.Replace(text, m => string.Concat(Enumerable.Repeat("<prd>", m.Length)) + "<stop>");
        text = text.Replace("Ph.D.", "Ph<prd>D<prd>", StringComparison.Ordinal);
        foreach (var (pattern, replacement) in SentenceRulesAfterDots)
        {
            text = pattern.Replace(text, replacement);
        }

        text = text
            .Replace(".\u201D", "\u201D.", StringComparison.Ordinal)
            .Replace(".\"", "\".", StringComparison.Ordinal)
            .Replace("!\"", "\"!", StringComparison.Ordinal)
            .Replace("?\"", "\"?", StringComparison.Ordinal)
            .Replace(".", ".<stop>", StringComparison.Ordinal)
            .Replace("?", "?<stop>", StringComparison.Ordinal)
            .Replace("!", "!<stop>", StringComparison.Ordinal)
            .Replace("<prd>", ".", StringComparison.Ordinal);
        var sentences = text.Split("<stop>").Select(Strip).ToList();
        if (sentences.Count > 0 && sentences[^1].Length == 0)
        {
            sentences.RemoveAt(sentences.Count - 1);
        }

        return sentences;
    }

    /// <summary>
    /// <c>count_sentences</c>. The original counts with nltk's trained Punkt model for English, which has no .NET
    /// port; this counts with the same module's rule-based <see cref="SplitIntoSentences"/> instead (they agree on the
    /// original's test cases; docs/benchmarks.md says where they can differ).
    /// </summary>
    public static int CountSentences(string text) => SplitIntoSentences(text).Count;

    // nltk.word_tokenize: NLTKWordTokenizer's substitutions, applied to each sentence.
    private static readonly (Regex Pattern, string Replacement)[] StartingQuotes =
    [
        (new Regex("([«“‘„]|[`]+)"), " $1 "),
        (new Regex("^\""), "``"),
        (new Regex("(``)"), " $1 "),
        (new Regex("([ \\(\\[{<])(\"|'{2})"), "$1 `` "),
        (new Regex($"(?<!{PyWordClass})(')(?!(?:re|ve|ll|m|t|s|d|n){PyWordBoundary})(?={PyWordClass})", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "$1 "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] Punctuation =
    [
        (new Regex("([^\\.])(\\.)([\\]\\)}>\"'»”’ ]*)\\s*$"), "$1 $2 $3 "),
        (new Regex("([:,])([^\\d])"), " $1 $2"),
        (new Regex("([:,])$"), " $1 "),
        (new Regex("\\.{2,}"), " $0 "),
        (new Regex("[;@#$%&]"), " $0 "),
        (new Regex("[\u2012-\u2015]"), " $0 "),
        (new Regex("([^\\.])(\\.)([\\]\\)}>\"']*)\\s*$"), "$1 $2$3 "),
        (new Regex("[?!]"), " $0 "),
        (new Regex("([^'])' "), "$1 ' "),
        (new Regex("[*]"), " $0 "),
        (new Regex("[\\]\\[\\(\\)\\{\\}\\<\\>]"), " $0 "),
        (new Regex("--"), " -- "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] EndingQuotes =
    [
        (new Regex("([»”’])"), " $1 "),
        (new Regex("''"), " '' "),
        (new Regex("\""), " '' "),
        (new Regex("\\s+"), " "),
        (new Regex("([^' ])('[sS]|'[mM]|'[dD]|') "), "$1 $2 "),
        (new Regex("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), "$1 $2 "),
    ];

    private static readonly Regex[] Contractions =
    [
        .. new[] { "(can)(not)", "(d)('ye)", "(gim)(me)", "(gon)(na)", "(got)(ta)", "(lem)(me)", "(more)('n)" }
            .Select(p => new Regex($"{PyWordBoundary}{p}{PyWordBoundary}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)),
        new Regex($"{PyWordBoundary}(wan)(na)(?=\\s)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant),
        new Regex($" ('t)(is){PyWordBoundary}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant),
        new Regex($" ('t)(was){PyWordBoundary}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant),
    ];

    /// <summary>
    /// <c>nltk.word_tokenize</c>: NLTKWordTokenizer (Treebank rules with nltk's additions) on each sentence. The
    /// sentences come from <see cref="SplitIntoSentences"/> where nltk uses Punkt, which can only move a sentence-final
    /// period into its own token; no checker counts such a token (it has no cased letter).
    /// </summary>
    public static List<string> WordTokenize(string text)
    {
        var tokens = new List<string>();
        foreach (var sentence in SplitIntoSentences(text))
        {
            var s = sentence;
            foreach (var (pattern, replacement) in StartingQuotes)
            {
                s = pattern.Replace(s, replacement);
            }

            foreach (var (pattern, replacement) in Punctuation)
            {
                s = pattern.Replace(s, replacement);
            }

            s = " " + s + " ";
            foreach (var (pattern, replacement) in EndingQuotes)
            {
                s = pattern.Replace(s, replacement);
            }

            foreach (var pattern in Contractions)
            {
                s = pattern.Replace(s, " $1 $2 ");
            }

            tokens.AddRange(SplitWhitespace(s));
        }

        return tokens;
    }
}
