using System.Text;
using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;

namespace Harness.IntegrationTests.Llama;

/// <summary>The backend's pure parts (token choice, stop handling, thread affinity); no model needed.</summary>
public sealed class LlamaBackendLogicTests
{
    [Fact]
    public void ArgMax_Ties_PickLowestId()
    {
        Assert.Equal(1, LogitMath.ArgMax([0f, 3f, 1f, 3f]));
    }

    [Fact]
    public void LogProbability_IsStableForHugeLogitsAndMatchesDirectFormula()
    {
        float[] logits = [1000f, 999f, 998f];
        var (lp, greedy) = LogitMath.LogProbability(logits, 1);

        var expected = -1 - Math.Log(1 + Math.Exp(-1) + Math.Exp(-2));
        Assert.Equal(expected, lp, 12);
        Assert.False(greedy);
        Assert.True(LogitMath.LogProbability(logits, 0).IsGreedy);
    }

    [Fact]
    public void AllFinite_DetectsNaNAndInfinity()
    {
        Assert.True(LogitMath.AllFinite([0f, -5f, 7f]));
        Assert.False(LogitMath.AllFinite([0f, float.NaN]));
        Assert.False(LogitMath.AllFinite([float.NegativeInfinity, 0f]));
    }

    [Fact]
    public void Sample_SameSeed_SameSequence_AndFollowsDistribution()
    {
        float[] logits = [0f, (float)Math.Log(3)]; // p = 0.25, 0.75 at T = 1
        var scratch = new double[2];
        int[] Draw(int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, 4000).Select(_ => LogitMath.Sample(logits, 1.0, random, scratch)).ToArray();
        }

        var a = Draw(7);
        Assert.Equal(a, Draw(7));
        var share = a.Count(t => t == 1) / (double)a.Length;
        Assert.InRange(share, 0.72, 0.78);
    }

    [Fact]
    public void Sample_LowTemperature_ApproachesArgMax()
    {
        float[] logits = [1f, 2f, 1.5f];
        var random = new Random(3);
        var scratch = new double[3];
        Assert.All(Enumerable.Range(0, 200), _ => Assert.Equal(1, LogitMath.Sample(logits, 0.01, random, scratch)));
    }

    [Fact]
    public void StopText_StopSpanningTokens_CutsBeforeIt()
    {
        var text = new StopSequenceText(["\n\nQ:"]);
        Assert.False(text.Append("The answer is 4."u8));
        Assert.False(text.Append("\n"u8));
        Assert.False(text.Append("\nQ"u8));
        Assert.True(text.Append(": next"u8));
        Assert.Equal("The answer is 4.", text.Finish());
    }

    [Fact]
    public void StopText_EarliestOfSeveralStopsWins()
    {
        var text = new StopSequenceText(["END", "."]);
        Assert.True(text.Append("a.b END"u8));
        Assert.Equal("a", text.Finish());
    }

    [Fact]
    public void StopText_MultiByteCharacterSplitAcrossTokens_DecodesWhole()
    {
        var bytes = Encoding.UTF8.GetBytes("héllo 🙂!");
        var text = new StopSequenceText(["!"]);
        var stopped = false;
        foreach (var b in bytes)
            stopped = text.Append([b]);
        Assert.True(stopped);
        Assert.Equal("héllo 🙂", text.Finish());
    }

    [Fact]
    public void StopText_NoStops_IncompleteTrailingBytes_BecomeReplacementCharacter()
    {
        var text = new StopSequenceText([]);
        Assert.False(text.Append([0x61, 0xF0, 0x9F]));
        Assert.Equal("a\uFFFD", text.Finish());
    }

    [Fact]
    public async Task Executor_RunsEveryItemOnTheSameDedicatedThread()
    {
        using var executor = new DedicatedThreadExecutor("test");
        var callerThread = Environment.CurrentManagedThreadId;

        var ids = new List<int>();
        for (var i = 0; i < 5; i++)
            ids.Add(await executor.InvokeAsync(_ => Environment.CurrentManagedThreadId, CancellationToken.None));

        Assert.Single(ids.Distinct());
        Assert.NotEqual(callerThread, ids[0]);
    }

    [Fact]
    public async Task Executor_CancelledWhileQueued_CancelsWithoutRunning()
    {
        using var executor = new DedicatedThreadExecutor("test");
        using var release = new ManualResetEventSlim();
        var blocker = executor.InvokeAsync(_ => release.Wait(TimeSpan.FromSeconds(10), CancellationToken.None), CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var ran = false;
        var queued = executor.InvokeAsync(_ => ran = true, cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        release.Set();
        Assert.True(await blocker);
        await executor.InvokeAsync(_ => 0, CancellationToken.None);
        Assert.False(ran);
    }

    [Fact]
    public async Task Executor_ExceptionInWork_FaultsTheTaskAndKeepsTheThreadAlive()
    {
        using var executor = new DedicatedThreadExecutor("test");

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => executor.InvokeAsync<int>(_ => throw new InvalidOperationException("boom"), CancellationToken.None));

        Assert.Equal(42, await executor.InvokeAsync(_ => 42, CancellationToken.None));
    }

    [Fact]
    public async Task Executor_AfterDispose_RejectsWork()
    {
        var executor = new DedicatedThreadExecutor("test");
        executor.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => executor.InvokeAsync(_ => 1, CancellationToken.None));
    }
}
