using Harness.Scoring.IfEval;

namespace Harness.Tests.Scoring.IfEval;

/// <summary>The cases of google-research's instruction_following_eval/instructions_util_test.py, plus the Python
/// semantics the port reproduces (Unicode <c>\w</c>, <c>isupper</c>).</summary>
public sealed class IfEvalTextTests
{
    [Theory]
    [InlineData("word1, word2, word3, word4.", 4)]
    [InlineData("\n      Bard can you tell me which is the best optimization method for the\n      transition from an hydro-thermal system to an hydro-renewables system", 24)]
    [InlineData("\n      Hyphenated-word has two word counts.\n      ", 6)]
    [InlineData("naïve café – Größe ½ x²", 5)]
    [InlineData("snake_case stays one", 3)]
    public void Word_count(string text, int expected) => Assert.Equal(expected, IfEvalText.CountWords(text));

    [Theory]
    [InlineData("xx,x. xx,x! xx/x. x{x}x? x.", 5)]
    [InlineData("xx,x! xxxx. x(x)x?", 3)]
    [InlineData("xxxx. xx,x! xx|x. x&x x?", 4)]
    [InlineData("xx-x]xx,x! x{x}xx,x.", 2)]
    [InlineData("", 0)]
    public void Count_sentences(string text, int expected) => Assert.Equal(expected, IfEvalText.CountSentences(text));

    [Fact]
    public void Sentence_splitter()
    {
        Assert.Equal(
            [
                "Google is a technology company.",
                "It was founded in 1998 by Larry Page and Sergey Brin.",
                "Google's mission is to organize the world's information and make it universally accessible and useful.",
            ],
            IfEvalText.SplitIntoSentences("\n  Google is a technology company. It was founded in 1998 by Larry Page\nand Sergey Brin. Google's mission is to organize the world's information\nand make it universally accessible and useful.\n  "));
        Assert.Equal(
            ["The U.S.A has many Ph.D. students.", "They will often haven a .com website sharing the research that they have done."],
            IfEvalText.SplitIntoSentences("\n  The U.S.A has many Ph.D. students. They will often haven a .com website\nsharing the research that they have done.\n  "));
    }

    [Theory]
    [InlineData("HELLO", true)]
    [InlineData("HELLO, WORLD 123!", true)]
    [InlineData("123", false)]
    [InlineData("HELLo", false)]
    [InlineData("ÉTÉ", true)]
    public void Is_upper_follows_python(string text, bool expected) => Assert.Equal(expected, IfEvalText.IsUpper(text));

    [Fact]
    public void Word_tokenize_splits_contractions_and_punctuation_as_nltk_does()
    {
        Assert.Equal(["I", "DO", "N'T", "KNOW", ",", "``", "OK", "''", "?"], IfEvalText.WordTokenize("I DON'T KNOW, \"OK\"?"));
        Assert.Equal(["Good", "muffins", "cost", "$", "3.88", "in", "New", "York", "."], IfEvalText.WordTokenize("Good muffins cost $3.88 in New York."));
    }
}
