using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Core.Judging;

/// <summary>
/// <c>harness run --judge &lt;model-id&gt;</c>: the judge is the user's choice (a catalogue suite such as mt-bench cannot
/// know which models they have), so the run can name it over the suite's <c>model</c> argument. The suite's scorer
/// specs are rewritten before planning, so run.json records the judge that actually graded.
/// </summary>
public static class JudgeOverride
{
    /// <summary>Whether <paramref name="suite"/> has a <c>judge</c> scorer.</summary>
    public static bool IsJudged(Suite suite) => suite.Scorers.Any(s => s.Name == JudgeSpec.ScorerName);

    /// <summary>The suite with every <c>judge</c> scorer's <c>model</c> set to <paramref name="judgeModelId"/>.</summary>
    public static Suite Apply(Suite suite, string judgeModelId)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentException.ThrowIfNullOrEmpty(judgeModelId);
        var model = JsonSerializer.SerializeToElement(judgeModelId);
        return suite with
        {
            Scorers = [.. suite.Scorers.Select(s => s.Name == JudgeSpec.ScorerName ? s with { Arguments = s.Arguments.SetItem("model", model) } : s)],
        };
    }
}
