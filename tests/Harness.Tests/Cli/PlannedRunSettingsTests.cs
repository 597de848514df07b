using Harness.Cli.Commands;

namespace Harness.Tests.Cli;

public class PlannedRunSettingsTests
{
    [Fact]
    public void A_resume_takes_no_planning_option_in_run_or_compare()
    {
        Assert.False(new RunSettings { Resume = "results/r", Models = ["a"] }.Validate().Successful);
        Assert.False(new RunSettings { Resume = "results/r", Suites = ["tasks/arith"] }.Validate().Successful);
        Assert.True(new RunSettings { Resume = "results/r" }.Validate().Successful);

        Assert.False(new CompareSettings { Resume = "results/r", Base = "a" }.Validate().Successful);
        Assert.False(new CompareSettings { Resume = "results/r", Tasks = "elsewhere" }.Validate().Successful);
        var resume = new CompareSettings { Resume = "results/r" }.Validate();
        Assert.True(resume.Successful, resume.Message);
    }

    [Fact]
    public void Compare_needs_a_base_and_a_candidate_that_is_not_the_base()
    {
        Assert.False(new CompareSettings { Base = "a" }.Validate().Successful);
        Assert.False(new CompareSettings { Base = "a", Candidates = ["b,a"] }.Validate().Successful);
        Assert.True(new CompareSettings { Base = "a", Candidates = ["b", "c"] }.Validate().Successful);
        Assert.Equal(["b", "c"], new CompareSettings { Candidates = ["b, c", "b"] }.CandidateIds);
    }
}
