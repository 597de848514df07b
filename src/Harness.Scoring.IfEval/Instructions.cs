using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Harness.Scoring.IfEval;

/// <summary>One verifiable instruction of an IFEval prompt, with its arguments bound.</summary>
public abstract class Instruction(string id)
{
    /// <summary>The registry id, e.g. <c>punctuation:no_comma</c>.</summary>
    public string Id { get; } = id;

    /// <summary><c>check_following</c>: whether <paramref name="response"/> follows the instruction.</summary>
    public abstract bool IsFollowed(string response);
}

/// <summary>"less than" or "at least", the only two relations IFEval compares counts with.</summary>
public enum Relation { LessThan, AtLeast }

/// <summary>
/// The 25 instructions lm-evaluation-harness registers (lm_eval/tasks/ifeval/instructions_registry.py@4e7e0d4), each
/// ported from instructions.py: the same regexes, counting rules and comparisons.
/// </summary>
public static class InstructionRegistry
{
    private const RegexOptions IgnoreCase = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;

    /// <summary>Every registered instruction id, sorted.</summary>
    public static ImmutableSortedSet<string> Ids { get; } = ImmutableSortedSet.Create(StringComparer.Ordinal,
        "keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
        "language:response_language", "length_constraints:number_sentences", "length_constraints:number_paragraphs",
        "length_constraints:number_words", "length_constraints:nth_paragraph_first_word",
        "detectable_content:number_placeholders", "detectable_content:postscript", "detectable_format:number_bullet_lists",
        "detectable_format:constrained_response", "detectable_format:number_highlighted_sections",
        "detectable_format:multiple_sections", "detectable_format:json_format", "detectable_format:title",
        "combination:two_responses", "combination:repeat_prompt", "startend:end_checker",
        "change_case:capital_word_frequency", "change_case:english_capital", "change_case:english_lowercase",
        "punctuation:no_comma", "startend:quotation");

    /// <summary>
    /// Builds instruction <paramref name="id"/> with the item's <paramref name="kwargs"/> object. Like lm-eval, null
    /// and other falsy values (0, "", []) count as absent; an absent argument lm-eval would draw at random is an error
    /// here, since a random draw is no verifiable instruction.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown id, unknown argument, or an argument of the wrong type or value.</exception>
    public static Instruction Create(string id, JsonElement kwargs, ILanguageDetector languages)
    {
        var args = new Kwargs(id, kwargs);
        Instruction instruction = id switch
        {
            "keywords:existence" => new KeywordExistence(id, args.StringList("keywords")),
            "keywords:frequency" => new KeywordFrequency(id, args.String("keyword"), args.Int("frequency"), args.Relation("relation")),
            "keywords:forbidden_words" => new ForbiddenWords(id, args.StringList("forbidden_words")),
            "keywords:letter_frequency" => new LetterFrequency(id, args.Letter("letter"), args.Int("let_frequency"), args.Relation("let_relation")),
            "language:response_language" => new ResponseLanguage(id, args.String("language"), languages),
            "length_constraints:number_sentences" => new NumberOfSentences(id, args.Int("num_sentences"), args.Relation("relation")),
            "length_constraints:number_paragraphs" => new NumberOfParagraphs(id, args.Int("num_paragraphs")),
            "length_constraints:number_words" => new NumberOfWords(id, args.Int("num_words"), args.Relation("relation")),
            "length_constraints:nth_paragraph_first_word" => NthParagraphFirstWord.Create(id, args),
            "detectable_content:number_placeholders" => new Placeholders(id, args.Int("num_placeholders")),
            "detectable_content:postscript" => new Postscript(id, IfEvalText.Strip(args.String("postscript_marker"))),
            "detectable_format:number_bullet_lists" => new BulletLists(id, args.Int("num_bullets")),
            "detectable_format:constrained_response" => new ConstrainedResponse(id),
            "detectable_format:number_highlighted_sections" => new HighlightedSections(id, args.Int("num_highlights")),
            "detectable_format:multiple_sections" => new Sections(id, IfEvalText.Strip(args.String("section_spliter")), args.Int("num_sections")),
            "detectable_format:json_format" => new JsonFormat(id),
            "detectable_format:title" => new Title(id),
            "combination:two_responses" => new TwoResponses(id),
            "combination:repeat_prompt" => new RepeatPrompt(id, args.String("prompt_to_repeat")),
            "startend:end_checker" => new EndPhrase(id, IfEvalText.Strip(args.String("end_phrase"))),
            "change_case:capital_word_frequency" => new CapitalWordFrequency(id, args.Int("capital_frequency"), args.Relation("capital_relation")),
            "change_case:english_capital" => new EnglishCase(id, upper: true, languages),
            "change_case:english_lowercase" => new EnglishCase(id, upper: false, languages),
            "punctuation:no_comma" => new NoComma(id),
            "startend:quotation" => new Quotation(id),
            _ => throw new ArgumentException($"unknown IFEval instruction '{id}'; known: {string.Join(", ", Ids)}", nameof(id)),
        };
        args.RejectUnused();
        return instruction;
    }

    private static bool Compare(int count, int threshold, Relation relation) =>
        relation == Relation.LessThan ? count < threshold : count >= threshold;

    /// <summary>A Python regex used as a .NET one: the dataset's keywords and markers are plain text, on which both
    /// engines agree.</summary>
    private static Regex PythonPattern(string pattern, RegexOptions options = RegexOptions.None) =>
        new(pattern, options | RegexOptions.CultureInvariant);

    private sealed class KeywordExistence(string id, ImmutableArray<string> keywords) : Instruction(id)
    {
        private readonly ImmutableArray<Regex> patterns = [.. keywords.Select(k => PythonPattern(k, IgnoreCase))];

        public override bool IsFollowed(string response) => patterns.All(p => p.IsMatch(response));
    }

    private sealed class KeywordFrequency(string id, string keyword, int frequency, Relation relation) : Instruction(id)
    {
        private readonly Regex pattern = PythonPattern(IfEvalText.Strip(keyword), IgnoreCase);

        public override bool IsFollowed(string response) => Compare(pattern.Count(response), frequency, relation);
    }

    private sealed class ForbiddenWords(string id, ImmutableArray<string> words) : Instruction(id)
    {
        private readonly ImmutableArray<Regex> patterns =
            [.. words.Distinct(StringComparer.Ordinal).Select(w => PythonPattern(IfEvalText.PyWordBoundary + w + IfEvalText.PyWordBoundary, IgnoreCase))];

        public override bool IsFollowed(string response) => !patterns.Any(p => p.IsMatch(response));
    }

    private sealed class LetterFrequency(string id, char letter, int frequency, Relation relation) : Instruction(id)
    {
        public override bool IsFollowed(string response) =>
            Compare(IfEvalText.Lower(response).Count(c => c == letter), frequency, relation);
    }

    private sealed class ResponseLanguage(string id, string language, ILanguageDetector languages) : Instruction(id)
    {
        public override bool IsFollowed(string response) => languages.IsLanguage(response, language);
    }

    private sealed class NumberOfSentences(string id, int threshold, Relation relation) : Instruction(id)
    {
        public override bool IsFollowed(string response) => Compare(IfEvalText.CountSentences(response), threshold, relation);
    }

    private sealed class NumberOfParagraphs(string id, int paragraphs) : Instruction(id)
    {
        private static readonly Regex Separator = new(@"\s?\*\*\*\s?");

        public override bool IsFollowed(string response)
        {
            var parts = Separator.Split(response);
            var count = parts.Length;
            for (var i = 0; i < parts.Length; i++)
            {
                if (IfEvalText.Strip(parts[i]).Length == 0)
                {
                    // An empty piece is allowed only before the first or after the last separator.
                    if (i == 0 || i == parts.Length - 1)
                    {
                        count--;
                    }
                    else
                    {
                        return false;
                    }
                }
            }

            return count == paragraphs;
        }
    }

    private sealed class NumberOfWords(string id, int threshold, Relation relation) : Instruction(id)
    {
        public override bool IsFollowed(string response) => Compare(IfEvalText.CountWords(response), threshold, relation);
    }

    private sealed class NthParagraphFirstWord(string id, int paragraphs, int nth, string firstWord) : Instruction(id)
    {
        private static readonly System.Buffers.SearchValues<char> Punctuation = System.Buffers.SearchValues.Create(".,?!'\"");

        public static NthParagraphFirstWord Create(string id, Kwargs args)
        {
            var paragraphs = args.Int("num_paragraphs");
            var nth = args.Int("nth_paragraph");
            if (nth <= 0 || nth > paragraphs)
            {
                // lm-eval draws a random paragraph here.
                throw args.Invalid("nth_paragraph", $"must be from 1 to num_paragraphs ({paragraphs}), got {nth}");
            }

            return new NthParagraphFirstWord(id, paragraphs, nth, IfEvalText.Lower(args.String("first_word")));
        }

        public override bool IsFollowed(string response)
        {
            var parts = response.Split("\n\n");
            var count = parts.Count(p => IfEvalText.Strip(p).Length > 0);
            if (nth > count)
            {
                return false;
            }

            var paragraph = IfEvalText.Strip(parts[nth - 1]);
            if (paragraph.Length == 0)
            {
                return false;
            }

            var word = IfEvalText.Strip(IfEvalText.SplitWhitespace(paragraph)[0]).TrimStart('\'').TrimStart('"');
            var end = word.IndexOfAny(Punctuation);
            var first = IfEvalText.Lower(end < 0 ? word : word[..end]);
            return count == paragraphs && first == firstWord;
        }
    }

    private sealed class Placeholders(string id, int minimum) : Instruction(id)
    {
        private static readonly Regex Placeholder = new(@"\[.*?\]");

        public override bool IsFollowed(string response) => Placeholder.Count(response) >= minimum;
    }

    private sealed class Postscript(string id, string marker) : Instruction(id)
    {
        private readonly Regex pattern = marker switch
        {
            "P.P.S" => new Regex(@"\s*p\.\s?p\.\s?s.*$", RegexOptions.Multiline),
            "P.S." => new Regex(@"\s*p\.\s?s\..*$", RegexOptions.Multiline),
            _ => PythonPattern(@"\s*" + IfEvalText.Lower(marker) + ".*$", RegexOptions.Multiline),
        };

        public override bool IsFollowed(string response) => pattern.IsMatch(IfEvalText.Lower(response));
    }

    private sealed class BulletLists(string id, int bullets) : Instruction(id)
    {
        private static readonly Regex Star = new(@"^\s*\*[^\*].*$", RegexOptions.Multiline);
        private static readonly Regex Dash = new(@"^\s*-.*$", RegexOptions.Multiline);

        public override bool IsFollowed(string response) => Star.Count(response) + Dash.Count(response) == bullets;
    }

    private sealed class ConstrainedResponse(string id) : Instruction(id)
    {
        private static readonly string[] Options = ["My answer is yes.", "My answer is no.", "My answer is maybe."];

        public override bool IsFollowed(string response)
        {
            var stripped = IfEvalText.Strip(response);
            return Options.Any(o => stripped.Contains(o, StringComparison.Ordinal));
        }
    }

    private sealed class HighlightedSections(string id, int minimum) : Instruction(id)
    {
        private static readonly Regex Single = new(@"\*[^\n\*]*\*");
        private static readonly Regex Double = new(@"\*\*[^\n\*]*\*\*");

        public override bool IsFollowed(string response)
        {
            // As upstream: every *x* counts, and a **x** counts once more on its own.
            var count = Single.Matches(response).Count(m => IfEvalText.Strip(m.Value.Trim('*')).Length > 0);
            count += Double.Matches(response).Count(m => IfEvalText.Strip(m.Value[2..^2]).Length > 0);
            return count >= minimum;
        }
    }

    private sealed class Sections(string id, string splitter, int minimum) : Instruction(id)
    {
        private readonly Regex pattern = PythonPattern(@"\s?" + splitter + @"\s?\d+\s?");

        // re.split gives one piece more than there are separators; upstream counts pieces minus one.
        public override bool IsFollowed(string response) => pattern.Count(response) >= minimum;
    }

    private sealed class JsonFormat(string id) : Instruction(id)
    {
        public override bool IsFollowed(string response)
        {
            var text = IfEvalText.Strip(response);
            foreach (var prefix in new[] { "```json", "```Json", "```JSON", "```" })
            {
                if (text.StartsWith(prefix, StringComparison.Ordinal))
                {
                    text = text[prefix.Length..];
                }
            }

            if (text.EndsWith("```", StringComparison.Ordinal))
            {
                text = text[..^3];
            }

            try
            {
                // Python's json has no nesting limit short of its recursion limit (about 1000).
                using var document = JsonDocument.Parse(IfEvalText.Strip(text), new JsonDocumentOptions { MaxDepth = 1000 });
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }

    private sealed class Title(string id) : Instruction(id)
    {
        private static readonly Regex Pattern = new(@"<<[^\n]+>>");

        public override bool IsFollowed(string response) =>
            Pattern.Matches(response).Any(m => IfEvalText.Strip(m.Value.TrimStart('<').TrimEnd('>')).Length > 0);
    }

    private sealed class TwoResponses(string id) : Instruction(id)
    {
        public override bool IsFollowed(string response)
        {
            var parts = response.Split("******");
            var valid = new List<string>();
            for (var i = 0; i < parts.Length; i++)
            {
                if (IfEvalText.Strip(parts[i]).Length == 0)
                {
                    if (i != 0 && i != parts.Length - 1)
                    {
                        return false;
                    }
                }
                else
                {
                    valid.Add(parts[i]);
                }
            }

            return valid.Count == 2 && IfEvalText.Strip(valid[0]) != IfEvalText.Strip(valid[1]);
        }
    }

    private sealed class RepeatPrompt(string id, string prompt) : Instruction(id)
    {
        private readonly string expected = IfEvalText.Lower(IfEvalText.Strip(prompt));

        public override bool IsFollowed(string response) =>
            IfEvalText.Lower(IfEvalText.Strip(response)).StartsWith(expected, StringComparison.Ordinal);
    }

    private sealed class EndPhrase(string id, string phrase) : Instruction(id)
    {
        private readonly string expected = IfEvalText.Lower(IfEvalText.Strip(phrase));

        public override bool IsFollowed(string response) =>
            IfEvalText.Lower(IfEvalText.Strip(response).Trim('"')).EndsWith(expected, StringComparison.Ordinal);
    }

    private sealed class CapitalWordFrequency(string id, int frequency, Relation relation) : Instruction(id)
    {
        public override bool IsFollowed(string response) =>
            Compare(IfEvalText.WordTokenize(response).Count(IfEvalText.IsUpper), frequency, relation);
    }

    private sealed class EnglishCase(string id, bool upper, ILanguageDetector languages) : Instruction(id)
    {
        public override bool IsFollowed(string response) =>
            (upper ? IfEvalText.IsUpper(response) : IfEvalText.IsLower(response)) && languages.IsLanguage(response, "en");
    }

    private sealed class NoComma(string id) : Instruction(id)
    {
        public override bool IsFollowed(string response) => !response.Contains(',', StringComparison.Ordinal);
    }

    private sealed class Quotation(string id) : Instruction(id)
    {
        public override bool IsFollowed(string response)
        {
            var text = IfEvalText.Strip(response);
            return text.Length > 1 && text[0] == '"' && text[^1] == '"';
        }
    }

    /// <summary>An instruction's keyword arguments, read the way <c>build_description(**kwargs)</c> takes them.</summary>
    internal sealed class Kwargs
    {
        private readonly string id;
        private readonly Dictionary<string, JsonElement> values = new(StringComparer.Ordinal);
        private readonly HashSet<string> used = new(StringComparer.Ordinal);

        public Kwargs(string id, JsonElement kwargs)
        {
            this.id = id;
            if (kwargs.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                return;
            }

            if (kwargs.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"instruction '{id}': kwargs must be an object, got {kwargs.ValueKind}");
            }

            foreach (var property in kwargs.EnumerateObject())
            {
                if (!IsFalsy(property.Value))
                {
                    values[property.Name] = property.Value;
                }
            }
        }

        public string String(string name)
        {
            var value = Get(name);
            return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid(name, $"must be a string, got {value.GetRawText()}");
        }

        public int Int(string name)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            {
                throw Invalid(name, $"must be an integer, got {value.GetRawText()}");
            }

            // A negative count makes lm-eval draw a random one.
            return number >= 0 ? number : throw Invalid(name, $"must not be negative, got {number}");
        }

        public Relation Relation(string name) => String(name) switch
        {
            "less than" => IfEval.Relation.LessThan,
            "at least" => IfEval.Relation.AtLeast,
            var other => throw Invalid(name, $"must be \"less than\" or \"at least\", got \"{other}\""),
        };

        public char Letter(string name)
        {
            // google-research's current checker takes any single non-whitespace character (the dataset asks for '#'
            // and '!'); lm-eval's older copy replaces anything but a-z with a random letter.
            var letter = String(name);
            if (letter.Length != 1 || IfEvalText.IsPySpace(letter[0]))
            {
                throw Invalid(name, $"must be a single non-whitespace character, got \"{letter}\"");
            }

            return IfEvalText.Lower(letter)[0];
        }

        public ImmutableArray<string> StringList(string name)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            {
                throw Invalid(name, $"must be a list of strings, got {value.GetRawText()}");
            }

            return [.. value.EnumerateArray().Select(e => e.GetString()!)];
        }

        public void RejectUnused()
        {
            var unknown = values.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"instruction '{id}': unknown argument(s) {string.Join(", ", unknown)}");
            }
        }

        public ArgumentException Invalid(string name, string problem) => new($"instruction '{id}': argument '{name}' {problem}");

        private JsonElement Get(string name)
        {
            used.Add(name);
            return values.TryGetValue(name, out var value)
                ? value
                : throw Invalid(name, "is missing (lm-eval would draw a random value)");
        }

        // Python truthiness: lm-eval drops falsy kwargs before build_description.
        private static bool IsFalsy(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.False => true,
            JsonValueKind.String => value.GetString()!.Length == 0,
            JsonValueKind.Number => value.GetDouble() == 0,
            JsonValueKind.Array => value.GetArrayLength() == 0,
            JsonValueKind.Object => !value.EnumerateObject().Any(),
            _ => false,
        };
    }
}
