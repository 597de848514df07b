using Harness.Core.Suites;

namespace Harness.Core.Scoring;

/// <summary>Builds <see cref="Score"/>s the same way in every scorer.</summary>
internal static class Scores
{
    /// <summary>
    /// A pass/fail score. Flexible extraction is defined as never stricter than strict: when the strict answer
    /// passes, the flexible one is the strict one.
    /// </summary>
    public static Score Binary(string scorer, bool passed, string? answer, bool flexiblePassed, string? flexibleAnswer, Func<string> explain)
    {
        if (passed)
        {
            return new Score(scorer, 1.0, answer, 1.0, answer, null);
        }

        var explanation = explain();
        if (flexiblePassed)
        {
            explanation += "; flexible extraction passed";
        }

        return new Score(scorer, 0.0, answer, flexiblePassed ? 1.0 : 0.0, flexibleAnswer, explanation);
    }

    /// <summary>A graded score; <paramref name="value"/> and <paramref name="flexibleValue"/> are in [0, 1].</summary>
    public static Score Graded(string scorer, double value, string answer, double flexibleValue, string flexibleAnswer, Func<string> explain)
    {
        if (value >= flexibleValue)
        {
            flexibleValue = value;
            flexibleAnswer = answer;
        }

        return new Score(scorer, value, answer, flexibleValue, flexibleAnswer, value >= 1.0 ? null : explain());
    }

    public static Score NoTarget(string scorer, SuiteItem item) =>
        new(scorer, 0.0, null, 0.0, null, $"item '{item.Id}' has no target to compare with");
}
