using System.IO.Pipelines;
using System.Text;
using Harness.Cli.Workers;
using Harness.Core.Backends;
using Harness.Core.Suites;
using Harness.Tests.Fakes;

namespace Harness.Tests.Workers;

/// <summary>The worker protocol end to end over in-memory pipes, with the fake backend behind it.</summary>
public sealed class WorkerHostTests
{
    [Fact]
    public async Task Load_generate_and_score_round_trip_through_the_protocol()
    {
        var backend = new FakeBackend(p => p.PlainText == "2+3=" ? "5" : "?");
        await using var worker = await InMemoryWorker.StartAsync(backend);
        var model = TestSuites.Model("m1");

        var loaded = await worker.SendAsync(new WorkerRequest(1, WorkerRequestKind.Load, model.Entry, model.ResolvedPath));
        Assert.True(loaded.Ok);
        Assert.Equal("fake", loaded.Loaded!.Backend);
        Assert.Equal(1, loaded.RequestId);
        // The fake session scores and traces but does not batch: its load answer says exactly that.
        Assert.Equal(new SessionAbilities(LogLikelihood: true, ParallelSequences: 0, TokenDistributions: true, ThroughputProbe: false), loaded.Abilities);

        var prompt = new RenderedPrompt([new ChatMessage("user", "2+3=")], "2+3=");
        var generated = await worker.SendAsync(new WorkerRequest(2, WorkerRequestKind.Generate,
            Generate: new GenerationRequest(prompt, new GenerationSettings(4, ["\n"], 0, 0))));
        Assert.Equal("5", generated.Generated!.Text);
        Assert.Equal(2, generated.RequestId);
        Assert.Equal(TimeSpan.FromMilliseconds(12), generated.Generated.Timings.Total);

        var scored = await worker.SendAsync(new WorkerRequest(3, WorkerRequestKind.LogLikelihood,
            LogLikelihood: new LogLikelihoodRequest(prompt, ["5", "6"])));
        Assert.Equal(["5", "6"], scored.Scored!.Continuations.Select(c => c.Continuation));
        Assert.True(scored.Scored.Continuations[0].IsGreedy);
    }

    [Fact]
    public async Task Load_and_backend_failures_come_back_as_typed_errors_and_the_worker_keeps_serving()
    {
        var backend = new FakeBackend(_ => "x") { FailToLoad = { "broken" }, FailOnPrompt = { "bad" } };
        await using var worker = await InMemoryWorker.StartAsync(backend);

        var failedLoad = await worker.SendAsync(new WorkerRequest(4, WorkerRequestKind.Load, TestSuites.Model("broken").Entry, "/x.gguf"));
        Assert.False(failedLoad.Ok);
        Assert.Equal(WorkerErrorKind.Load, failedLoad.ErrorKind);
        Assert.Contains("broken", failedLoad.Error, StringComparison.Ordinal);

        var model = TestSuites.Model("m1");
        Assert.True((await worker.SendAsync(new WorkerRequest(5, WorkerRequestKind.Load, model.Entry, model.ResolvedPath))).Ok);
        var bad = new RenderedPrompt([], "bad");
        var failed = await worker.SendAsync(new WorkerRequest(6, WorkerRequestKind.Generate,
            Generate: new GenerationRequest(bad, new GenerationSettings(4, [], 0, 0))));
        Assert.Equal(WorkerErrorKind.Backend, failed.ErrorKind);

        var unreadable = await worker.SendRawAsync("{not json");
        Assert.Equal(WorkerErrorKind.Protocol, unreadable.ErrorKind);
        Assert.Null(unreadable.RequestId);
        Assert.Equal(6, failed.RequestId);
    }

    [Theory]
    [InlineData(134, "SIGABRT")]
    [InlineData(137, "SIGKILL")]
    [InlineData(139, "SIGSEGV")]
    [InlineData(1, "exited with code 1")]
    public void Exit_statuses_are_described_for_people(int exitCode, string expected) =>
        Assert.Contains(expected, WorkerChannel.DescribeExit(exitCode), StringComparison.Ordinal);

    private sealed class InMemoryWorker : IAsyncDisposable
    {
        private readonly Pipe _toWorker = new();
        private readonly Pipe _fromWorker = new();
        private readonly StreamWriter _writer;
        private readonly StreamReader _reader;
        private Task<int> _host = Task.FromResult(0);

        private InMemoryWorker()
        {
            _writer = new StreamWriter(_toWorker.Writer.AsStream(), new UTF8Encoding(false)) { AutoFlush = true };
            _reader = new StreamReader(_fromWorker.Reader.AsStream(), new UTF8Encoding(false));
        }

        public static Task<InMemoryWorker> StartAsync(IModelBackend backend)
        {
            var worker = new InMemoryWorker();
            worker._host = Task.Run(() => new WorkerHost(backend).RunAsync(
                worker._toWorker.Reader.AsStream(), worker._fromWorker.Writer.AsStream(), CancellationToken.None));
            return Task.FromResult(worker);
        }

        public Task<WorkerResponse> SendAsync(WorkerRequest request) => SendRawAsync(WorkerJson.Serialize(request));

        public async Task<WorkerResponse> SendRawAsync(string line)
        {
            await _writer.WriteLineAsync(line);
            var answer = await _reader.ReadLineAsync() ?? throw new InvalidOperationException("worker closed its output");
            return WorkerJson.Deserialize<WorkerResponse>(answer);
        }

        public async ValueTask DisposeAsync()
        {
            await _toWorker.Writer.CompleteAsync();
            Assert.Equal(0, await _host);
        }
    }
}
