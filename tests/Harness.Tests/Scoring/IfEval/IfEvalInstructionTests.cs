using System.Text.Json;
using Harness.Scoring.IfEval;

namespace Harness.Tests.Scoring.IfEval;

/// <summary>
/// The test cases of google-research's instruction_following_eval/instructions_test.py, one test per upstream test
/// method, for every instruction lm-eval registers. Upstream's tests of unregistered instructions (constrained_start,
/// rephrase, key_sentences, rephrase_paragraph) have no counterpart. The letter_frequency tests that accept punctuation
/// follow the current original; lm-eval's older copy draws a random letter for '#' instead.
/// </summary>
public sealed class IfEvalInstructionTests(LinguaFixture lingua) : IClassFixture<LinguaFixture>
{
    private const string LessThan = "less than";
    private const string AtLeast = "at least";

    private bool Check(string id, object? kwargs, string response) =>
        InstructionRegistry.Create(id, JsonSerializer.SerializeToElement(kwargs ?? new { }), lingua.Detector)
            .IsFollowed(response.ReplaceLineEndings("\n"));

    [Theory]
    [InlineData("The response is English", "en")]
    [InlineData("Desayunamos en McDonald's hoy", "es")]
    [InlineData("Today we visit the Louvre", "en")]
    public void Response_language(string response, string language) =>
        Assert.True(Check("language:response_language", new { language }, response));

    [Fact]
    public void Response_language_fails_another_language() =>
        Assert.False(Check("language:response_language", new { language = "en" }, "Dans l'ensemble, je suis tout à fait d'accord avec vous."));

    [Theory]
    [InlineData("ನಮಸ್ಕಾರ, ನೀವು ಹೇಗಿದ್ದೀರಿ? ಇದು ಕನ್ನಡದಲ್ಲಿ ಬರೆದ ಉತ್ತರ.", "kn", true)]
    [InlineData("This answer is in English.", "kn", false)]
    [InlineData("म नेपाली भाषामा लेख्दैछु।", "ne", true)]
    [InlineData("This answer is in English.", "ne", false)]
    [InlineData("12345 !!!", "de", true)]
    public void Languages_lingua_lacks_are_judged_by_script_and_a_text_without_letters_passes(string response, string language, bool expected) =>
        Assert.Equal(expected, Check("language:response_language", new { language }, response));

    [Fact]
    public void Detector_version_is_recorded_as_the_package_version() =>
        Assert.Equal("SearchPioneer.Lingua 2.0.0", LinguaLanguageDetector.Version);

    [Theory]
    [InlineData("xx,x. xx,x! xx/x. x{x}x?", LessThan, 4, false)]
    [InlineData("xxxx. xx,x! xxxx. x(x)x?", LessThan, 5, true)]
    [InlineData("xxxx. xx,x! xx|x. x&x x?", AtLeast, 4, true)]
    [InlineData("xx-x. xx,x! xx}x. x,xx?", AtLeast, 5, false)]
    public void Number_sentences(string response, string relation, int num_sentences, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:number_sentences", new { relation, num_sentences }, response));

    [Theory]
    [InlineData("Sure, here is a short template with 5 placeholders:\n[Name]\n[Email]\n[Phone]\n[Address]\n[Website]\n"
        + "This template can be used for a variety of purposes, such ascreating a contact list, sending out surveys, or creating a sign-up form.", 5, true)]
    [InlineData("My [adjective] [noun] is [adjective] [noun]. I [verb] and [verb].", 7, false)]
    public void Number_placeholders(string response, int num_placeholders, bool expected) =>
        Assert.Equal(expected, Check("detectable_content:number_placeholders", new { num_placeholders }, response));

    private const string Bullet1 = "\n  A Markdown bullet point is a way of formatting text to create a list. To\n  create a bullet point, start each line with an asterisk (*). For example:\n  * This is a bullet point.\n  *(no space required)Another bullet point.\n  * (no newline ending required)Another bullet point.\n  markdown bullet points are often used to create to-do lists or to list items\n  in a step-by-step guide.";
    private const string Bullet2 = "\n  Check that inline asterisk (*), *, will not be counted. Only * that starts a\n  bullet list will be counted:\n    * This is a bullet point.\n    * Another bullet point.\n    . dot is not counted";
    private const string Bullet3 = "\n  Here are three bullets starting with asterisk:\n  * I am a large language model, also known as a conversational AI.\n  * I am trained on a massive amount of text data, and I am able to communicate.\n  * I am still under development, but I am learning new things every day.";
    private const string Bullet4 = "\n  Here are three markdown bullets:\n  - I am a large language model, also known as a conversational AI.\n  - I am trained on a massive amount of text data, and I am able to communicate.\n  -I am still under development, but I am learning new things every day.";
    private const string Bullet5 = "\n  Paragraph 1\n  ***\n  Paragraph 2\n  ***\n  Paragraph 3\n  * only one bullet point\n  ";

    [Theory]
    [InlineData(Bullet1, 3, true)]
    [InlineData(Bullet2, 2, true)]
    [InlineData(Bullet3, 3, true)]
    [InlineData(Bullet4, 3, true)]
    [InlineData(Bullet5, 1, true)]
    [InlineData(Bullet3, 2, false)]
    public void Number_bullet_lists(string response, int num_bullets, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:number_bullet_lists", new { num_bullets }, response));

    [Theory]
    [InlineData("\n My answer is no.\n", true)]
    [InlineData("My answer is no.   ", true)]
    [InlineData("\n  My answer is no. I am still under development and I am always learning and\n  improving. I am not the best chatbot in the world, but I am striving to be\n  the best that I can be.", true)]
    [InlineData("No.", false)]
    public void Constrained_response(string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:constrained_response", null, response));

    private const string Highlight1 = "\n  To highlight text with Markdown, you can use the * character before and after\n  the text you want to highlight. For example, if you want to highlight the\n  word `hello`, you would type:*hello*, You can also use the ** character to\n  create bold text. For example, if you want to bold the word `hello`, you\n  would type: **hello** ";
    private const string Highlight2 = "\n  Sure, here are the numerical methods for solving partial differential\n  equations highlighted with Markdown:\n  *Finite difference methods\n  *Finite element methods*\n  *Boundary element methods\n  *Monte Carlo methods\n  I hope this helps!";
    private const string Highlight3 = "\n  There is allowed to be *two different* highlighted *sections in the same*\n  line. **This is also true** for **double markdown highlights.**\n  ";

    [Theory]
    [InlineData(Highlight1, 2, true)]
    [InlineData(Highlight2, 2, false)]
    [InlineData(Highlight3, 4, true)]
    public void Number_highlights(string response, int num_highlights, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:number_highlighted_sections", new { num_highlights }, response));

    [Fact]
    public void Section_checker()
    {
        const string message1 = "\n  Your response must have multiple sections. Mark the beginning of each section\n  with \"Section X\", such as:\n  Section 1\n  [content of section 1]\n  Section 2\n  [content of section 2]";
        const string message2 = "SECTION 1\n  [content of section 1]\n  SECTION 2\n  [content of section 2]";
        Assert.False(Check("detectable_format:multiple_sections", new { section_spliter = "Section", num_sections = 3 }, message1));
        Assert.True(Check("detectable_format:multiple_sections", new { section_spliter = "SECTION", num_sections = 2 }, message2));
    }

    [Theory]
    [InlineData("\n  paragraph 1\n  ***\n  paragraph 2\n  ***\n  paragraph 3", 3, true)]
    [InlineData("\n          ***\n  paragraph 1\n          ***\n      paragraph 2\n          ***\n      paragraph 3", 3, true)]
    [InlineData("\n  paragraph 1\n          ***\n      paragraph 2\n          ***\n      paragraph 3\n          ***", 3, true)]
    [InlineData("\n  paragraph 1\n          ***\n      paragraph 2\n          ***\n          ***", 2, false)]
    public void Paragraph_checker(string response, int num_paragraphs, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:number_paragraphs", new { num_paragraphs }, response));

    private const string Postscript1 = "\n  I will do my best to follow your instructions and always start my responses\n  with \"My response is:\". I will try to be as consistent as possible, but\n  please be patient with me if I make a mistake. I am still under development,\n  and I am always learning new things.\n\n  P.S. I hope this is what you were looking for.";
    private const string Postscript2 = "\n  Sure, here is my response with a postscript starting with P.P.S.:\n\n  My response is: I hope this answers your question.\n\n  P.P.S. I am always happy to answer any other questions you may have.\n\n  Do you have any other questions for me?";
    private const string Postscript3 = "\n  The radius of a unit circle is 1. However, I can give you a funny and wrong\n  answer: the radius of a unit circle is 0. This is because a unit circle is a\n  circle with a radius of 1, and if the radius is 0, then the circle has no\n  size and is just a point. (not starting a new line) P.S. I hope you enjoyed\n  my joke!";
    private const string Postscript4 = "\n  If the length of a square is one, the area of the square will also be one.\n  p.p.s what if the entire response was lower case letters?\n  ";
    private const string Postscript5 = "\n  The mysteries of space and time are mysterious.\n  P. S. Sometimes there are even spaces between P. and S..\n  ";

    [Theory]
    [InlineData(Postscript1, "P.S.", true)]
    [InlineData(Postscript1, "PS:", false)]
    [InlineData(Postscript2, "P.P.S", true)]
    [InlineData(Postscript3, "P.S.", true)]
    [InlineData(Postscript4, "P.P.S", true)]
    [InlineData(Postscript5, "P.S.", true)]
    public void Postscript_checker(string response, string postscript_marker, bool expected) =>
        Assert.Equal(expected, Check("detectable_content:postscript", new { postscript_marker }, response));

    [Fact]
    public void Keyword_checker()
    {
        const string message1 = "\n  Paris is a city of beauty and romance. The romantic river Seine winds its way\n  through the city, past iconic landmarks like the Eiffel Tower and the Louvre\n  Museum, where the Mona Lisa resides. Whether you're taking a boat cruise down\n  the river or simply strolling along the banks, you're sure to be captivated\n  by the city's charm.";
        const string message2 = "\n  Paris is a city of beauty, romance, and history. It is home to some of the\n  most iconic landmarks in the world, including the Eiffel Tower, the Louvre\n  Museum, and the Notre Dame Cathedral. The city is also known for its romantic\n  river cruises, its delicious food, and its stylish people.\n  ";
        var keywords = new[] { "romantic", "river", "Mona Lisa" };
        Assert.True(Check("keywords:existence", new { keywords }, message1));
        Assert.False(Check("keywords:existence", new { keywords }, message2));
    }

    [Fact]
    public void Keyword_frequency_checker()
    {
        const string message1 = "\n  keyword, Keyword, KEYWORD\n  ";
        const string message2 = "\n    *keyword\n    *Keyword\n    *KEYWORD\n  ";
        Assert.True(Check("keywords:frequency", new { keyword = "  keyword ", frequency = 4, relation = LessThan }, message1));
        Assert.True(Check("keywords:frequency", new { keyword = "  keyword ", frequency = 3, relation = AtLeast }, message1));
        Assert.False(Check("keywords:frequency", new { keyword = "KEYWORD", frequency = 4, relation = AtLeast }, message2));
    }

    [Fact]
    public void Num_words_checker()
    {
        const string message1 = "\n  d3sCRi7 lArge lAnguagE M0del w1tH 20 w0RdS.";
        const string message2 = "\n  L4RGE L4NGU4GE M0DEL: AI syst3m th4t und3rstands, g3n3r4tes, or tr4nsforms\n  l4ngu4g3 b4s3d on pr3vious l3arning & d4t4.";
        Assert.True(Check("length_constraints:number_words", new { num_words = 8, relation = LessThan }, message1));
        Assert.False(Check("length_constraints:number_words", new { num_words = 16, relation = LessThan }, message2));
        Assert.True(Check("length_constraints:number_words", new { num_words = 16, relation = AtLeast }, message2));
    }

    [Theory]
    [InlineData("\n  paragraph 1\n\n  I paragraph 2\n\n  paragraph 3", 3, 2, "I", true)]
    [InlineData("\n  paragraph 1\n\n  I paragraph 2", 3, 2, "I", false)]
    [InlineData("\n  paragraph 1\n\n  fail paragraph 2\n\n  paragraph 3", 3, 2, "I", false)]
    [InlineData("\n  Wow this is a very long response.\n\n  I can't believe there is more than three paragraphs.\n\n  Really more than three? No way!\n\n  I can't believe it but I guess I am living proof.\n\n  Haha, you go that right.", 5, 5, "haha", true)]
    [InlineData("\n  Wow this is a very long response.\n\n  I can't believe there is more than three paragraphs.\n\n  \"Really?! more than three? No way!\"\n\n  I can't believe it but I guess I am living proof.\n\n  Haha, you go that right.", 5, 3, "Really", true)]
    [InlineData("\n  Wow this is a very long response.\n\n  I can't believe there is more than three paragraphs.\n\n  Rea!lly more than three? No way!\n\n  I can't believe it but I guess I am living proof.\n\n  Haha, you go that right.", 5, 3, "Really", false)]
    public void Paragraph_first_word(string response, int num_paragraphs, int nth_paragraph, string first_word, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:nth_paragraph_first_word", new { num_paragraphs, nth_paragraph, first_word }, response));

    private const string Forbidden1 = "\n  The Nazis came to power in 1933 through a combination of legal and illegal\n  means. Hitler was appointed chancellor by President Paul von Hindenburg, and\n  the Nazis quickly consolidated their power by passing a series of laws that\n  restricted the rights of opposition parties and individuals. By 1934, Hitler\n  had become dictator of Germany.\n  ";
    private const string Forbidden2 = "\n  Dinosaurs were a diverse group of reptiles that dominated the Earth for over\n  160 million years. They came in all shapes and sizes, from the tiny\n  Compsognathus to the massive Argentinosaurus. Dinosaurs were the most\n  successful land animals on Earth until they went extinct about 66 million\n  years ago. The exact cause of their extinction is still unknown, but it\n  is thought to have been a combination of factors, including an asteroid\n  impact and climate change.\n  ";
    private const string Forbidden3 = "\n  GPT, or Generative Pre-trained Transformer, is a family of neural network\n  models that uses the transformer architecture. GPT models are trained on a\n  massive dataset of text and code, and can be used for a variety of tasks,\n  including text generation, translation, and question answering. GPT models\n  have been shown to be very effective at these tasks, and are being used by\n  a variety of companies and organizations like Google.\n  ";

    [Theory]
    [InlineData(Forbidden1, new[] { "HOUSE", "POWER", "BECOME" }, false)]
    [InlineData(Forbidden2, new[] { "HOUSE", "POWER", "BECOME" }, true)]
    [InlineData(Forbidden3, new[] { "HOUSE", "POWER", "BECOME" }, true)]
    [InlineData(Forbidden1, new[] { "GOOGLE", "TEXT" }, true)]
    [InlineData(Forbidden2, new[] { "GOOGLE", "TEXT" }, true)]
    [InlineData(Forbidden3, new[] { "GOOGLE", "TEXT" }, false)]
    [InlineData(Forbidden3, new[] { "GENE", "TRANSFORM" }, true)]
    public void Forbidden_words(string response, string[] forbidden_words, bool expected) =>
        Assert.Equal(expected, Check("keywords:forbidden_words", new { forbidden_words }, response));

    [Theory]
    [InlineData("\n  This is response 1.\n  ******\n  This is response 2.\n  ", true)]
    [InlineData("\n  This is response 1.\n  ******\n  This is response 1.\n  ", false)]
    [InlineData("\n  This is response 1.\n  ******\n  This is response 2.\n  ******\n  This is response 3.\n  ", false)]
    [InlineData("\n  ******\n  Response 1.\n  ******\n  ******\n  Response 2.\n  ******\n  ", false)]
    [InlineData("\n  ******\n  Response 1\n  ******\n  Response 2\n  ******\n  ", true)]
    public void Two_responses(string response, bool expected) =>
        Assert.Equal(expected, Check("combination:two_responses", null, response));

    [Theory]
    [InlineData("Write a CL description. Hi, Le and TJ, please\n  check this out. Thanks.\n  ", true)]
    [InlineData("Hi, Le and TJ. Write a CL description. Thanks.\n  ", false)]
    public void Prompt_repeat_answer(string response, bool expected) =>
        Assert.Equal(expected, Check("combination:repeat_prompt", new { prompt_to_repeat = "Write a CL description." }, response));

    [Theory]
    [InlineData("\n  The answer is 7. Any more questions?\n  ", "\n  Any more questions?\n  ", true)]
    [InlineData("\n  At the end of this prompt I am required to say that this is the end.\n  ", "\n  This is the end.\n  ", true)]
    [InlineData("\n  This will fail. Paris is cool.\n  ", "\n  This will fail.\n  ", false)]
    public void End_checker(string response, string end_phrase, bool expected) =>
        Assert.Equal(expected, Check("startend:end_checker", new { end_phrase }, response));

    [Theory]
    [InlineData("\n  <<Song of Joy>>\n  La la la. Happy song.\n  ", true)]
    [InlineData("\n  Is it fine for title to be at the end?\n  <<This is the title>>\n  ", true)]
    [InlineData("\n  << >>\n  There is no title.\n  ", false)]
    [InlineData("\n  <<This is not a title.\n  This is a paragraph.>>\n  ", false)]
    public void Title_checker(string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:title", null, response));

    [Theory]
    [InlineData("\n  There is the T. Four T's.\n  ", "T", 4, AtLeast, true)]
    [InlineData("\n  asdfghjkl!!aA\n  ", "a", 4, LessThan, true)]
    [InlineData("\n  asdfghjkl!!aA\n  ", "p", 4, AtLeast, false)]
    public void Letter_frequency_checker(string response, string letter, int let_frequency, string let_relation, bool expected) =>
        Assert.Equal(expected, Check("keywords:letter_frequency", new { letter, let_frequency, let_relation }, response));

    [Fact]
    public void Letter_frequency_checker_accepts_punctuation()
    {
        Assert.True(Check("keywords:letter_frequency", new { letter = "#", let_frequency = 4, let_relation = AtLeast }, "#one #two #three #four"));
        Assert.False(Check("keywords:letter_frequency", new { letter = "#", let_frequency = 4, let_relation = AtLeast }, "#one #two #three"));
    }

    [Fact]
    public void Letter_frequency_checker_rejects_invalid_explicit_args()
    {
        Assert.Contains("single non-whitespace character", Assert.Throws<ArgumentException>(
            () => Check("keywords:letter_frequency", new { letter = "ab", let_frequency = 1, let_relation = AtLeast }, "x")).Message, StringComparison.Ordinal);
        Assert.Contains("must not be negative", Assert.Throws<ArgumentException>(
            () => Check("keywords:letter_frequency", new { letter = "a", let_frequency = -1, let_relation = AtLeast }, "x")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\n  THIS IS AN ENGLISH SENTENCE. EVERY LETTER IS CAPITALIZED!!! AMAZING.\n  ", true)]
    [InlineData("\n  Every Word Is Capitalized.\n  ", false)]
    public void English_capital_checker(string response, bool expected) =>
        Assert.Equal(expected, Check("change_case:english_capital", null, response));

    [Theory]
    [InlineData("\n  every letter is lowercase.\n  ", true)]
    [InlineData("\n  Almost every letter is lowercase.\n  ", false)]
    [InlineData("\n  tout est écrit en minuscules, mais en français.\n  ", false)]
    public void English_lowercase_checker(string response, bool expected) =>
        Assert.Equal(expected, Check("change_case:english_lowercase", null, response));

    [Theory]
    [InlineData("\n  Every sentence is short. There is no need for a comma.\n  ", true)]
    [InlineData("\n  Since the start of time, people have always found a way to punctuate.\n  ", false)]
    public void Comma(string response, bool expected) =>
        Assert.Equal(expected, Check("punctuation:no_comma", null, response));

    [Theory]
    [InlineData("\n  HERE there are THREE FUlly CAPITAL words.\n  ", 3, AtLeast, true)]
    [InlineData("\n  THERE are Four FULLY CAPITAL WORDS. Many Others Are Only Partially So.\n  ", 5, LessThan, true)]
    [InlineData("\n  THERE are Four FULLY CAPITAL WORDS. Many Others Are Only Partially So.\n  ", 4, LessThan, false)]
    public void Capital_word_frequency(string response, int capital_frequency, string capital_relation, bool expected) =>
        Assert.Equal(expected, Check("change_case:capital_word_frequency", new { capital_frequency, capital_relation }, response));

    [Theory]
    [InlineData("\n  \"This entire message is wrapped in double quotation marks.\"\n  ", true)]
    [InlineData("\n  \"This message is wrapped in double quotation marks.\" But not everything.\n  ", false)]
    public void Quotation(string response, bool expected) =>
        Assert.Equal(expected, Check("startend:quotation", null, response));

    [Theory]
    [InlineData("```json\n{\"a\": [1, 2]}\n```", true)]
    [InlineData("```JSON\n{\"a\": 1}\n```", true)]
    [InlineData("  [1, \"two\", null]  ", true)]
    [InlineData("{\"a\": 1,}", false)]
    [InlineData("Here is the JSON: {\"a\": 1}", false)]
    public void Json_format(string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:json_format", null, response));

    [Fact]
    public void Every_registered_instruction_is_ported()
    {
        Assert.Equal(25, InstructionRegistry.Ids.Count);
        Assert.Throws<ArgumentException>(() => Check("multi-turn:constrained_start", new { starter = "I" }, "I"));
    }

    [Fact]
    public void Unknown_or_wrongly_typed_arguments_are_refused_and_falsy_ones_count_as_absent()
    {
        Assert.Contains("unknown argument", Assert.Throws<ArgumentException>(() => Check("punctuation:no_comma", new { extra = 1 }, "x")).Message, StringComparison.Ordinal);
        Assert.Contains("less than", Assert.Throws<ArgumentException>(() => Check("length_constraints:number_words", new { num_words = 3, relation = "at most" }, "x")).Message, StringComparison.Ordinal);
        // lm-eval drops falsy kwargs (here null) before build_description.
        Assert.True(Check("punctuation:no_comma", new { prompt_to_repeat = (string?)null }, "no comma"));
        Assert.Contains("must not be negative", Assert.Throws<ArgumentException>(() => Check("length_constraints:number_words", new { num_words = -3, relation = AtLeast }, "x")).Message, StringComparison.Ordinal);
        Assert.Contains("missing", Assert.Throws<ArgumentException>(() => Check("length_constraints:number_words", new { num_words = 0, relation = AtLeast }, "x")).Message, StringComparison.Ordinal);
    }
}

/// <summary>One Lingua detector for the class: building it is the slow part.</summary>
public sealed class LinguaFixture
{
    public ILanguageDetector Detector { get; } = new LinguaLanguageDetector();
}
