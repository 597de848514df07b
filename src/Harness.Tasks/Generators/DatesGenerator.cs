using System.Globalization;
using Harness.Core.Suites;

namespace Harness.Tasks.Generators;

/// <summary>
/// <c>dates</c>: an English date in one of three spellings → ISO 8601. Slashed dates are US style (MM/DD/YYYY);
/// month names are spelled from a fixed table, never from the current culture.
/// </summary>
public sealed class DatesGenerator : TaskGenerator<DatesGenerator.Problem>
{
    /// <param name="Style">0: <c>Mar 5 2021</c>, 1: <c>5 March 2021</c>, 2: <c>03/05/2021</c> (month first).</param>
    public sealed record Problem(DateOnly Date, int Style);

    private static readonly DateOnly First = new(1990, 1, 1);
    private static readonly DateOnly Last = new(2029, 12, 31);

    private static readonly string[] MonthNames =
    [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ];

    public override SuiteDefinition Definition { get; } = new(
        Name: "dates",
        Version: 1,
        Kind: SuiteKind.Fixed,
        Description: "Normalise a date written 'Mar 5 2021', '5 March 2021' or '03/05/2021' (US order, MM/DD/YYYY) to ISO 8601 '2021-03-05'. Years 1990-2029.",
        Request: RequestKind.Generate,
        Prompt: Template("iso {{date}}:"),
        Generation: new GenerationSettings(MaxTokens: 12, Stop: ["\n"], Temperature: 0, Seed: 0),
        Scorers: Scorer("exact", ("normalize", Json(new[] { "trim" }))),
        Requirement: new Requirement(MinPassRate: 0.9, Confidence: 0.95, MaxP95Latency: null, MaxJoulesPerItem: null),
        ExtraFiles: NoExtraFiles);

    protected override int EvaluationSeed => 1002;

    protected override Problem Sample(Random random) =>
        new(First.AddDays(random.Next(0, Last.DayNumber - First.DayNumber + 1)), random.Next(0, 3));

    // The date, not its spelling: a model that saw 5 March 2021 in training has seen the answer to 03/05/2021.
    protected override string KeyOf(Problem problem) => Iso(problem.Date);

    protected override SuiteItem ToItem(string id, Problem problem) =>
        new(id, Fields(("date", Json(Spell(problem)))), Iso(problem.Date), []);

    internal static string Spell(Problem problem)
    {
        var d = problem.Date;
        var month = MonthNames[d.Month - 1];
        return problem.Style switch
        {
            0 => string.Create(CultureInfo.InvariantCulture, $"{month[..3]} {d.Day} {d.Year}"),
            1 => string.Create(CultureInfo.InvariantCulture, $"{d.Day} {month} {d.Year}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{d.Month:D2}/{d.Day:D2}/{d.Year:D4}"),
        };
    }

    private static string Iso(DateOnly date) =>
        string.Create(CultureInfo.InvariantCulture, $"{date.Year:D4}-{date.Month:D2}-{date.Day:D2}");
}
