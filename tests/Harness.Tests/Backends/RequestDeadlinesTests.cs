using System.Globalization;
using Harness.Core.Backends;
using Harness.Core.Suites;

namespace Harness.Tests.Backends;

/// <summary>The watchdog's arithmetic: floors, the fixed overrides, and deadlines derived from measured speed.</summary>
public sealed class RequestDeadlinesTests
{
    private static readonly WatchdogSettings Settings = WatchdogSettings.Default;

    private static RequestTimings Timings(double promptSeconds, double generationSeconds) => new(
        TimeSpan.FromSeconds(promptSeconds), TimeSpan.FromSeconds(promptSeconds), TimeSpan.FromSeconds(generationSeconds),
        TimeSpan.FromSeconds(promptSeconds + generationSeconds));

    [Fact]
    public void A_first_request_gets_the_first_request_floor_whatever_its_size()
    {
        var deadlines = new RequestDeadlines(Settings);

        var deadline = deadlines.For(new RequestSize(100_000, 4096));

        Assert.Equal(TimeSpan.FromSeconds(1800), deadline.Limit);
        Assert.Contains("not measured yet", deadline.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Later_requests_get_the_slack_times_the_slowest_measured_speed_and_never_less_than_the_floor()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var deadlines = new RequestDeadlines(Settings);
            deadlines.Observe(promptTokens: 100, newTokens: 50, Timings(1, 5)); // 10 ms per prompt token, 100 ms per new token
            deadlines.Observe(promptTokens: 100, newTokens: 50, Timings(0.1, 0.5)); // a faster item never shortens a deadline

            var large = deadlines.For(new RequestSize(200, 100));
            // 10 x (200 x 0.01 s + 100 x 0.1 s) = 120 s
            Assert.Equal(120, large.Limit.TotalSeconds, 6);
            Assert.Equal("10 x (200 prompt tokens at 10 ms + 100 new tokens at 100 ms)", large.Basis);

            var small = deadlines.For(new RequestSize(10, 1));
            Assert.Equal(TimeSpan.FromSeconds(60), small.Limit);
            Assert.StartsWith("the floor of 60 s", small.Basis, StringComparison.Ordinal);

            // A batch's wait for its next answer: the largest outstanding request, times the sequences sharing the decodes.
            Assert.Equal(480, deadlines.For(new RequestSize(200, 100), sequences: 4).Limit.TotalSeconds, 6);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void A_prompt_only_request_needs_only_the_prompt_speed_and_a_generation_needs_both()
    {
        var deadlines = new RequestDeadlines(Settings);
        deadlines.Observe(promptTokens: 1000, newTokens: 0, Timings(20, 0)); // a log-likelihood item: 20 ms per token

        Assert.Equal(200, deadlines.For(new RequestSize(1000, 0)).Limit.TotalSeconds, 6);
        Assert.Equal(TimeSpan.FromSeconds(1800), deadlines.For(new RequestSize(1000, 16)).Limit);
    }

    [Fact]
    public void Fixed_timeouts_replace_the_derivation_even_before_any_speed_is_known()
    {
        var deadlines = new RequestDeadlines(Settings, itemTimeout: TimeSpan.FromSeconds(2), loadTimeout: TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(2), deadlines.For(new RequestSize(100_000, 4096)).Limit);
        Assert.Equal("the item timeout set for this model", deadlines.For(new RequestSize(1, 1)).Basis);
        Assert.Equal(TimeSpan.FromSeconds(5), deadlines.Load(40L << 30).Limit);
    }

    [Fact]
    public void A_load_gets_the_floor_plus_time_per_gibibyte_of_file()
    {
        var deadline = new RequestDeadlines(Settings).Load(2L << 30);

        Assert.Equal(TimeSpan.FromSeconds(300 + (2 * 30)), deadline.Limit);
        Assert.Equal("300 s + 30 s per GiB of a 2 GiB file", deadline.Basis);
    }

    [Fact]
    public void A_request_size_bounds_prompt_tokens_by_utf8_bytes_plus_the_template_allowance()
    {
        var prompt = new RenderedPrompt([new ChatMessage("user", "héllo")], "héllo");

        var generation = RequestSize.Of(new GenerationRequest(prompt, new GenerationSettings(32, [], 0, 0)), Settings);
        var scoring = RequestSize.Of(new LogLikelihoodRequest(prompt, ["ab", "c"]), Settings);

        Assert.Equal(new RequestSize(4 + 6 + 64, 32), generation); // the chat turns (role + content) are the larger count
        Assert.Equal(new RequestSize(4 + 6 + 64 + 3, 0), scoring);
    }
}
