using System.Collections.Immutable;
using System.Text;
using Lingua;

namespace Harness.Scoring.IfEval;

/// <summary>What IFEval's language checks ask of <c>langdetect.detect</c>.</summary>
public interface ILanguageDetector
{
    /// <summary>True when <paramref name="text"/> is in the language with ISO 639-1 code <paramref name="isoCode"/>;
    /// true as well when no language can be detected at all (langdetect raises there, and the checkers count that as
    /// followed).</summary>
    bool IsLanguage(string text, string isoCode);
}

/// <summary>
/// Language detection with Lingua (SearchPioneer.Lingua), limited to the languages langdetect knows, so that it cannot
/// answer with one langdetect could never give. Lingua has no model for Kannada, Malayalam or Nepali: for those a text
/// counts as in the language when most of its letters are in the language's script (Kannada, Malayalam, Devanagari),
/// so a Hindi or Marathi answer to a Nepali instruction passes here where langdetect would fail it.
/// Deterministic, where langdetect samples at random unless seeded (lm-eval does not seed it).
/// </summary>
public sealed class LinguaLanguageDetector : ILanguageDetector
{
    // langdetect's 55 profiles, less kn, ml, ne (not in Lingua); zh-cn and zh-tw are both Chinese.
    private static readonly ImmutableArray<Language> LangdetectLanguages =
    [
        Language.Afrikaans, Language.Arabic, Language.Bulgarian, Language.Bengali, Language.Catalan, Language.Czech,
        Language.Welsh, Language.Danish, Language.German, Language.Greek, Language.English, Language.Spanish,
        Language.Estonian, Language.Persian, Language.Finnish, Language.French, Language.Gujarati, Language.Hebrew,
        Language.Hindi, Language.Croatian, Language.Hungarian, Language.Indonesian, Language.Italian, Language.Japanese,
        Language.Korean, Language.Lithuanian, Language.Latvian, Language.Macedonian, Language.Marathi, Language.Dutch,
        Language.Bokmal, Language.Punjabi, Language.Polish, Language.Portuguese, Language.Romanian, Language.Russian,
        Language.Slovak, Language.Slovene, Language.Somali, Language.Albanian, Language.Swedish, Language.Swahili,
        Language.Tamil, Language.Telugu, Language.Thai, Language.Tagalog, Language.Turkish, Language.Ukrainian,
        Language.Urdu, Language.Vietnamese, Language.Chinese,
    ];

    // Languages Lingua cannot detect, by the script their letters must mostly be in.
    private static readonly ImmutableDictionary<string, (int First, int Last)> ScriptOnly =
        ImmutableDictionary<string, (int, int)>.Empty
            .Add("kn", (0x0C80, 0x0CFF))
            .Add("ml", (0x0D00, 0x0D7F))
            .Add("ne", (0x0900, 0x097F));

    /// <summary>The detector as run.json records it, e.g. <c>SearchPioneer.Lingua 2.0.0</c>.</summary>
    public static string Version { get; } =
        $"SearchPioneer.Lingua {typeof(LanguageDetector).Assembly.GetName().Version?.ToString(3) ?? "unknown"}";

    private readonly LanguageDetector detector = LanguageDetectorBuilder.FromLanguages([.. LangdetectLanguages]).Build();

    public bool IsLanguage(string text, string isoCode)
    {
        var letters = 0;
        var inScript = 0;
        var (first, last) = ScriptOnly.TryGetValue(isoCode, out var range) ? range : (-1, -1);
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetter(rune) || Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.NonSpacingMark
                    or System.Globalization.UnicodeCategory.SpacingCombiningMark)
            {
                letters++;
                if (rune.Value >= first && rune.Value <= last)
                {
                    inScript++;
                }
            }
        }

        if (letters == 0)
        {
            // langdetect raises "No features in text" here; the checkers then count the instruction as followed.
            return true;
        }

        if (first >= 0)
        {
            return inScript * 2 > letters;
        }

        var detected = detector.DetectLanguageOf(text);
        return detected == Language.Unknown || IsoCode(detected) == isoCode;
    }

    private static string IsoCode(Language language) => language switch
    {
        Language.Bokmal => "no",
        _ => language.IsoCode6391().ToString().ToLowerInvariant(),
    };
}
