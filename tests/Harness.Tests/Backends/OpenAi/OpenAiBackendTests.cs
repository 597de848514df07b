using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Harness.Backends.OpenAi;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Suites;

namespace Harness.Tests.Backends.OpenAi;

public sealed class OpenAiBackendTests
{
    // Short backoff so retry tests take milliseconds; 3 tries.
    private static readonly OpenAiBackendOptions Fast = OpenAiBackendOptions.Default with { MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(10) };

    private static GenerationRequest Request(string prompt = "2+2=", int maxTokens = 8, double temperature = 0, int seed = 7, params string[] stop) =>
        new(new RenderedPrompt([new ChatMessage("user", prompt)], prompt), new GenerationSettings(maxTokens, [.. stop], temperature, seed));

    private static Task ReplyAsync(HttpListenerResponse response, CancellationToken token, string finish = "stop", params string[] pieces) =>
        FakeOpenAiServer.WriteEventsAsync(response, FakeOpenAiServer.CompletionEvents(pieces, finish, 5, pieces.Length), TimeSpan.Zero, token);

    [Fact]
    public async Task Streams_a_completion_and_records_tokens_finish_and_server_timings()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) => ReplyAsync(response, token, "length", "4", "2", "!"));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var result = await session.GenerateAsync(Request(maxTokens: 3), CancellationToken.None);

        Assert.Equal("42!", result.Text);
        Assert.Equal(FinishReason.MaxTokens, result.FinishReason);
        Assert.Equal("2+2=", result.PromptText);
        Assert.Equal(5, result.PromptTokens);
        Assert.Equal(3, result.GeneratedTokens);
        Assert.Equal(TimeSpan.FromMilliseconds(12.5), result.Timings.PromptEvaluation);
        Assert.Equal(TimeSpan.FromMilliseconds(40), result.Timings.Generation);
        Assert.Equal(new ServerTimings(5, TimeSpan.FromMilliseconds(12.5), 3, TimeSpan.FromMilliseconds(40), 0), result.Timings.Server);
        Assert.NotNull(result.Timings.MeanInterToken);
        Assert.True(result.Timings.TimeToFirstToken <= result.Timings.Total);

        var sent = Assert.Single(server.Generations).Json;
        Assert.Equal("test-model", sent.GetProperty("model").GetString());
        Assert.Equal("2+2=", sent.GetProperty("prompt").GetString());
        Assert.True(sent.GetProperty("stream").GetBoolean());
        Assert.True(sent.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(0, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(3, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal(7, sent.GetProperty("seed").GetInt32());
    }

    [Fact]
    public async Task A_one_token_answer_takes_its_generation_time_from_the_client_not_from_llama_servers_near_zero_predicted_ms()
    {
        // llama-server's predicted_ms leaves out the first token, so for one token it is microseconds: 1 / 0.002 ms
        // would report 500,000 tokens/s. The client's time after the first token is used instead.
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) =>
            FakeOpenAiServer.WriteEventsAsync(response,
            [
                """{"choices":[{"text":"4","index":0,"finish_reason":null}]}""",
                """{"choices":[{"text":"","index":0,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1},"timings":{"prompt_n":5,"prompt_ms":12.5,"predicted_n":1,"predicted_ms":0.002,"cache_n":0}}""",
            ], TimeSpan.FromMilliseconds(30), token));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var result = await session.GenerateAsync(Request(maxTokens: 3), CancellationToken.None);

        Assert.Equal(1, result.GeneratedTokens);
        Assert.Equal(TimeSpan.FromMilliseconds(0.002), result.Timings.Server!.Predicted);
        Assert.Equal(result.Timings.Total - result.Timings.TimeToFirstToken, result.Timings.Generation);
        Assert.True(result.Timings.Generation >= TimeSpan.FromMilliseconds(20), $"generation {result.Timings.Generation.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Chat_template_auto_goes_to_chat_completions_with_the_messages()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) =>
            FakeOpenAiServer.WriteEventsAsync(response,
            [
                """{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
                """{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""",
                """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
                """{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}""",
            ], TimeSpan.Zero, token));
        var model = FakeOpenAiServer.Model(server.Endpoint, template: ChatTemplateMode.Auto);
        await using var session = await new OpenAiBackend(Fast).LoadAsync(model, server.Endpoint, CancellationToken.None);

        var result = await session.GenerateAsync(Request("hello", temperature: 0.8, seed: 42), CancellationToken.None);

        Assert.Equal("Hi", result.Text);
        Assert.Equal(FinishReason.EndOfGeneration, result.FinishReason);
        Assert.Equal((9, 2), (result.PromptTokens, result.GeneratedTokens));
        var sent = Assert.Single(server.To("/v1/chat/completions")).Json;
        var message = Assert.Single(sent.GetProperty("messages").EnumerateArray());
        Assert.Equal(("user", "hello"), (message.GetProperty("role").GetString(), message.GetProperty("content").GetString()));
        Assert.Equal(0.8, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(42, sent.GetProperty("seed").GetInt32());
    }

    [Fact]
    public async Task Stop_sequences_go_to_the_server_and_are_enforced_by_the_client_when_the_server_ignores_them()
    {
        // This server does not apply stop sequences: it streams past the newline and would go on.
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) => ReplyAsync(response, token, "length", "4", "2\nnext", " line"));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var result = await session.GenerateAsync(Request(stop: ["\n", "2\nn"]), CancellationToken.None);

        // The earliest stop wins, as in the llama.cpp backend: "2\nn" starts before "\n".
        Assert.Equal("4", result.Text);
        Assert.Equal(FinishReason.StopSequence, result.FinishReason);
        var sent = Assert.Single(server.Generations).Json;
        Assert.Equal(["\n", "2\nn"], sent.GetProperty("stop").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public void Stop_watch_finds_a_stop_split_over_pieces_and_ignores_what_follows()
    {
        var watch = new StopSequenceText(["END"]);
        Assert.False(watch.Append("abc E"));
        Assert.False(watch.Append("N"));
        Assert.True(watch.Append("Dxyz"));
        Assert.True(watch.Append("more"));
        Assert.Equal("abc ", watch.Finish());
        Assert.Equal("abc", new StopSequenceText([]) is var none && !none.Append("abc") ? none.Finish() : "");
    }

    [Fact]
    public async Task Server_sent_events_are_parsed_with_comments_multiline_data_and_a_missing_final_blank_line()
    {
        var text = ": keep-alive\n\ndata: {\"a\":\ndata: 1}\n\nevent: x\ndata: two\n\ndata: last";
        var payloads = new List<string>();
        await foreach (var p in SseReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), "test", CancellationToken.None))
            payloads.Add(p);
        Assert.Equal(["{\"a\":\n1}", "two", "last"], payloads);

        var done = new List<string>();
        await foreach (var p in SseReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes("data: one\n\ndata: [DONE]\n\ndata: after\n\n")), "test", CancellationToken.None))
            done.Add(p);
        Assert.Equal(["one"], done);

        var ex = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var _ in SseReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes("<html>oops</html>\n")), "test", CancellationToken.None))
            {
            }
        });
        Assert.Contains("malformed event stream", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_waited_out_and_retried_once_the_result_counts()
    {
        var calls = 0;
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                response.AddHeader("Retry-After", "1");
                return FakeOpenAiServer.WriteJsonAsync(response, 429, """{"error":"slow down"}""");
            }
            return ReplyAsync(response, token, "stop", "ok");
        });
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        var result = await session.GenerateAsync(Request(), CancellationToken.None);

        Assert.Equal("ok", result.Text);
        Assert.Equal(2, server.Generations.Count());
        // Retry-After: 1 (seconds) wins over the 10 ms backoff.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {clock.Elapsed.TotalSeconds} s");
    }

    [Fact]
    public async Task A_server_error_on_every_try_fails_the_request_with_status_and_a_short_body_excerpt()
    {
        var body = "{\"error\":\"" + new string('x', 1000) + "\"}";
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, _) => FakeOpenAiServer.WriteJsonAsync(response, 500, body));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<BackendException>(() => session.GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(ItemFailureKind.Backend, ex.Kind);
        Assert.Contains("HTTP 500", ex.Message, StringComparison.Ordinal);
        Assert.Contains("{\"error\":\"xxx", ex.Message, StringComparison.Ordinal);
        var excerpt = ex.Message[ex.Message.IndexOf("{\"error\"", StringComparison.Ordinal)..];
        Assert.Equal(ServerClient.ExcerptLength, excerpt.Length);
        Assert.Equal(Fast.MaxAttempts, server.Generations.Count());
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, _) =>
            FakeOpenAiServer.WriteJsonAsync(response, 400, """{"error":{"message":"the request exceeds the available context size"}}"""));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<BackendException>(() => session.GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(ItemFailureKind.ContextOverflow, ex.Kind);
        Assert.Single(server.Generations);
    }

    [Fact]
    public async Task A_response_slower_than_the_item_timeout_ends_the_session_as_a_timeout()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", async (_, response, token) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), token);
            await ReplyAsync(response, token, "stop", "late");
        });
        var model = FakeOpenAiServer.Model(server.Endpoint, itemTimeout: TimeSpan.FromMilliseconds(500));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(model, server.Endpoint, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(ItemFailureKind.Timeout, ex.Kind);
        Assert.Contains("past its deadline of 0.5 s (the item timeout set for this model)", ex.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"gave up after {clock.Elapsed.TotalSeconds} s");
    }

    [Fact]
    public async Task A_stream_that_stalls_mid_answer_is_also_held_to_the_deadline()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) =>
            FakeOpenAiServer.WriteEventsAsync(response, FakeOpenAiServer.CompletionEvents(["a", "b"], "stop", 1, 2), TimeSpan.FromSeconds(5), token));
        var model = FakeOpenAiServer.Model(server.Endpoint, itemTimeout: TimeSpan.FromMilliseconds(700));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(model, server.Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(ItemFailureKind.Timeout, ex.Kind);
    }

    [Theory]
    [InlineData("data: {not json\n\n", "an event is not JSON")]
    [InlineData("data: {\"choices\":[{\"text\":\"a\",\"finish_reason\":null}]}\n\n", "ended without a finish_reason")]
    [InlineData("<html>bad gateway</html>\n", "malformed event stream")]
    [InlineData("data: {\"object\":\"text_completion\"}\n\n", "no 'choices' array")]
    public async Task A_malformed_body_fails_the_request_and_says_what_was_wrong(string stream, string problem)
    {
        await using var server = FakeOpenAiServer.Serving("test-model", async (_, response, token) =>
        {
            response.StatusCode = 200;
            response.ContentType = "text/event-stream";
            await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(stream), token);
            response.Close();
        });
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<BackendException>(() => session.GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(ItemFailureKind.Backend, ex.Kind);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_that_breaks_mid_answer_ends_the_session_as_a_crash()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", async (_, response, token) =>
        {
            // A body announced longer than what arrives before the connection closes: the server died mid-answer.
            response.StatusCode = 200;
            response.ContentType = "text/event-stream";
            response.ContentLength64 = 10_000;
            await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes("data: {\"choices\":[{\"text\":\"4\",\"finish_reason\":null}]}\n\n"), token);
            await response.OutputStream.FlushAsync(token);
            response.Abort();
        });
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(ItemFailureKind.WorkerCrash, ex.Kind);
        Assert.Contains("broke", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_a_malformed_response_not_a_crash()
    {
        await using var server = new FakeOpenAiServer((request, response, _) => request.Path switch
        {
            "/v1/models" => FakeOpenAiServer.WriteJsonAsync(response, 200, """{"data":[{"id":"test-model"}]}"""),
            "/v1/completions" when request.Body.Contains("The sky is blue", StringComparison.Ordinal) => FakeOpenAiServer.WriteJsonAsync(response, 200,
                """{"choices":[{"logprobs":{"tokens":["a","b"],"token_logprobs":[null,-1],"text_offset":[0,1]}}]}"""),
            "/v1/completions" => FakeOpenAiServer.WriteJsonAsync(response, 200,
                """{"choices":[{"logprobs":{"tokens":["a","b"],"token_logprobs":[null,-1],"text_offset":[0,"one"]}}]}"""),
            _ => FakeOpenAiServer.WriteJsonAsync(response, 404, "{}"),
        });
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<BackendException>(() =>
            ((ILogLikelihoodScorer)session).ScoreContinuationsAsync(new LogLikelihoodRequest(new RenderedPrompt([], "a"), ["b"]), CancellationToken.None));

        Assert.Contains("unexpected shape", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_key_is_sent_as_a_bearer_token_and_never_appears_in_errors_or_load_facts()
    {
        var variable = "HARNESS_TEST_KEY_" + Guid.NewGuid().ToString("N");
        const string Secret = "sk-test-7f3a9c0d1e2b";
        Environment.SetEnvironmentVariable(variable, Secret);
        try
        {
            // A careless server that echoes the request's headers in its error body.
            await using var server = FakeOpenAiServer.Serving("test-model", (request, response, _) =>
                FakeOpenAiServer.WriteJsonAsync(response, 401, JsonSerializer.Serialize(new { error = $"bad key: {request.Authorization}" })));
            var model = FakeOpenAiServer.Model(server.Endpoint, apiKeyVariable: variable);
            var backend = new OpenAiBackend(Fast);
            await using var session = await backend.LoadAsync(model, server.Endpoint, CancellationToken.None);

            var ex = await Assert.ThrowsAsync<BackendException>(() => session.GenerateAsync(Request(), CancellationToken.None));
            var description = await new OpenAiBackendProvider(Fast).DescribeAsync(model, server.Endpoint, CancellationToken.None);

            Assert.All(server.Requests, r => Assert.Equal($"Bearer {Secret}", r.Authorization));
            Assert.Contains("HTTP 401", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, ex.Message, StringComparison.Ordinal);
            Assert.Contains("<api key>", ex.Message, StringComparison.Ordinal);
            var recorded = JsonSerializer.Serialize(session.LoadInfo) + JsonSerializer.Serialize(description.Identity)
                + string.Join(";", description.Capabilities.Missing.Values);
            Assert.DoesNotContain(Secret, recorded, StringComparison.Ordinal);
            Assert.Contains(variable, session.LoadInfo.EffectiveSettings["api_key_env"], StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task A_missing_key_variable_is_named_without_a_value()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) => ReplyAsync(response, token, "stop", "x"));
        var variable = "HARNESS_TEST_UNSET_" + Guid.NewGuid().ToString("N");
        var ex = await Assert.ThrowsAsync<ModelLoadException>(() =>
            new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint, apiKeyVariable: variable), server.Endpoint, CancellationToken.None));
        Assert.Contains($"environment variable {variable}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_keeps_at_most_max_concurrency_requests_in_flight_and_yields_each_as_it_finishes()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", async (request, response, token) =>
        {
            var prompt = request.Json.GetProperty("prompt").GetString()!;
            // Later prompts answer faster, so completion order differs from request order.
            await Task.Delay(TimeSpan.FromMilliseconds(300 - (20 * int.Parse(prompt, System.Globalization.CultureInfo.InvariantCulture))), token);
            await ReplyAsync(response, token, "stop", $"answer {prompt}");
        });
        var model = FakeOpenAiServer.Model(server.Endpoint, maxConcurrency: 3);
        await using var session = await new OpenAiBackend(Fast).LoadAsync(model, server.Endpoint, CancellationToken.None);
        var batched = Assert.IsAssignableFrom<IBatchedTextGenerator>(session);
        Assert.Equal(3, batched.ParallelSequences);
        Assert.Equal(3, session.LoadInfo.ParallelSequences);

        var requests = Enumerable.Range(0, 10).Select(i => Request(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var results = new List<BatchedGeneration>();
        await foreach (var outcome in batched.GenerateBatchAsync(requests, CancellationToken.None))
            results.Add(outcome);

        Assert.Equal(Enumerable.Range(0, 10), results.Select(r => r.Index).Order());
        Assert.All(results, r => Assert.Equal($"answer {r.Index}", r.Result!.Text));
        Assert.NotEqual(Enumerable.Range(0, 10), results.Select(r => r.Index));
        Assert.Equal(3, server.MaxInFlight);
    }

    [Fact]
    public async Task A_failing_request_of_a_batch_is_reported_alone_and_the_others_finish()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (request, response, token) =>
            request.Json.GetProperty("prompt").GetString() == "bad"
                ? FakeOpenAiServer.WriteJsonAsync(response, 400, """{"error":"bad prompt"}""")
                : ReplyAsync(response, token, "stop", "fine"));
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint, maxConcurrency: 2), server.Endpoint, CancellationToken.None);

        var results = new List<BatchedGeneration>();
        await foreach (var outcome in ((IBatchedTextGenerator)session).GenerateBatchAsync([Request("a"), Request("bad"), Request("c")], CancellationToken.None))
            results.Add(outcome);

        Assert.Equal(3, results.Count);
        var failed = Assert.Single(results, r => r.Result is null);
        Assert.Equal(1, failed.Index);
        Assert.Contains("HTTP 400", failed.Error, StringComparison.Ordinal);
        Assert.Equal(ItemFailureKind.Backend, failed.FailureKind);
    }

    [Fact]
    public async Task A_server_that_does_not_serve_the_model_fails_the_load_naming_what_it_serves()
    {
        await using var server = FakeOpenAiServer.Serving("other-model", (_, response, token) => ReplyAsync(response, token, "stop", "x"));

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() =>
            new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint, served: "test-model"), server.Endpoint, CancellationToken.None));

        Assert.Contains("does not serve 'test-model'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'other-model'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_gone_fails_the_load_and_ends_a_live_session_as_a_crash()
    {
        var server = FakeOpenAiServer.Serving("test-model", (_, response, token) => ReplyAsync(response, token, "stop", "x"));
        var model = FakeOpenAiServer.Model(server.Endpoint);
        var backend = new OpenAiBackend(Fast);
        await using var session = await backend.LoadAsync(model, server.Endpoint, CancellationToken.None);
        await server.DisposeAsync();

        var lost = await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request(), CancellationToken.None));
        var load = await Assert.ThrowsAsync<ModelLoadException>(() => backend.LoadAsync(model, server.Endpoint, CancellationToken.None));

        Assert.Equal(ItemFailureKind.WorkerCrash, lost.Kind);
        Assert.Contains("cannot be reached", lost.Message, StringComparison.Ordinal);
        Assert.Contains("3 tries", lost.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be reached", load.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capabilities_say_why_each_missing_ability_is_missing_and_a_loopback_server_is_another_local_process()
    {
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) => ReplyAsync(response, token, "stop", "x"));

        var description = await new OpenAiBackendProvider(Fast).DescribeAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var capabilities = description.Capabilities;
        Assert.Equal(BackendAbilities.Generate, capabilities.Abilities);
        Assert.Equal(EnergyScope.OtherLocalProcess, capabilities.Energy);
        Assert.Contains("echo", capabilities.WhyNot(BackendAbilities.LogLikelihood), StringComparison.Ordinal);
        Assert.Contains("echo is not supported", capabilities.WhyNot(BackendAbilities.LogLikelihood), StringComparison.Ordinal);
        Assert.Contains("max_concurrency", capabilities.WhyNot(BackendAbilities.BatchedGeneration), StringComparison.Ordinal);
        Assert.NotNull(capabilities.WhyNot(BackendAbilities.TokenDistributions));
        Assert.NotNull(capabilities.WhyNot(BackendAbilities.ThroughputProbe));
        Assert.Equal("test-model", description.Identity["server.model"]);
        Assert.Equal("none", description.Identity["server.loglikelihood"]);
    }

    [Fact]
    public void A_remote_endpoint_is_not_measured_for_energy()
    {
        var model = FakeOpenAiServer.Model("http://gpu-box.example:8000/v1", maxConcurrency: 4);
        using var client = new ServerClient(model, "http://gpu-box.example:8000/v1", Fast, TimeProvider.System);
        var facts = new ServerFacts(ImmutableSortedDictionary<string, string>.Empty, false, ScoringMode.Echo, null, null, null, null);

        var capabilities = OpenAiBackend.Capabilities(model, client, facts);

        Assert.Equal(EnergyScope.Remote, capabilities.Energy);
        Assert.True(capabilities.Has(BackendAbilities.BatchedGeneration | BackendAbilities.LogLikelihood));
        Assert.Equal(new Uri("http://gpu-box.example:8000/"), client.Root);
    }

    [Fact]
    public async Task Llama_server_props_are_recorded_as_identity_and_select_its_native_scoring()
    {
        await using var server = new FakeOpenAiServer((request, response, _) => request.Path switch
        {
            "/v1/models" => FakeOpenAiServer.WriteJsonAsync(response, 200,
                """{"data":[{"id":"tiny.gguf","aliases":["tiny"],"owned_by":"llamacpp","meta":{"n_vocab":512,"n_ctx":128,"n_params":260000}}]}"""),
            "/props" => FakeOpenAiServer.WriteJsonAsync(response, 200,
                """{"model_path":"/models/tiny.gguf","build_info":"b1-de3ff81","total_slots":1,"chat_template":"","default_generation_settings":{"n_ctx":128}}"""),
            _ => FakeOpenAiServer.WriteJsonAsync(response, 404, "{}"),
        });

        var description = await new OpenAiBackendProvider(Fast).DescribeAsync(FakeOpenAiServer.Model(server.Endpoint, served: "tiny"), server.Endpoint, CancellationToken.None);

        Assert.True(description.Capabilities.Has(BackendAbilities.LogLikelihood));
        Assert.Equal("llama-server", description.Identity["server.loglikelihood"]);
        Assert.Equal("/models/tiny.gguf", description.Identity["llama_server.model_path"]);
        Assert.Equal("b1-de3ff81", description.Identity["llama_server.build_info"]);
        Assert.Equal("none", description.Identity["llama_server.chat_template"]);
        Assert.Equal("512", description.Identity["server.meta.n_vocab"]);
        // No echo probe: llama-server rejects echo.
        Assert.Empty(server.To("/v1/completions"));
    }

    [Fact]
    public async Task A_server_that_refuses_the_llama_server_and_ollama_routes_still_loads()
    {
        await using var server = new FakeOpenAiServer((request, response, token) => request.Path switch
        {
            "/v1/models" => FakeOpenAiServer.WriteJsonAsync(response, 200, """{"data":[{"id":"test-model"}]}"""),
            "/v1/completions" => FakeOpenAiServer.WriteJsonAsync(response, 400, """{"error":"no echo"}"""),
            _ => FakeOpenAiServer.WriteJsonAsync(response, 403, """{"error":"forbidden"}"""),
        });

        // No location: the manifest's endpoint is used.
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), "", CancellationToken.None);

        Assert.DoesNotContain(session.LoadInfo.EffectiveSettings.Keys, k => k.StartsWith("llama_server.", StringComparison.Ordinal) || k.StartsWith("ollama.", StringComparison.Ordinal));
        Assert.Equal($"{server.Endpoint}/", session.LoadInfo.EffectiveSettings["endpoint"]);
        Assert.Single(server.To("/props"));
    }

    [Fact]
    public async Task Echo_scoring_sums_the_continuation_tokens_found_by_text_offset()
    {
        // "Paris is" + " nice": tokens "Paris"(0) " is"(5) " nice"(8), then the one generated token at 13.
        const string Logprobs = """
            {"choices":[{"text":"Paris is nice.","logprobs":{
              "tokens":["Paris"," is"," nice","."],
              "token_logprobs":[null,-1.5,-0.25,-3.0],
              "top_logprobs":[null,{" is":-1.5},{" good":-0.1," nice":-0.25},{".":-3.0}],
              "text_offset":[0,5,8,13]}}],"usage":{"prompt_tokens":3}}
            """;
        await using var server = new FakeOpenAiServer((request, response, _) => request.Path switch
        {
            "/v1/models" => FakeOpenAiServer.WriteJsonAsync(response, 200, """{"data":[{"id":"test-model"}]}"""),
            "/v1/completions" => FakeOpenAiServer.WriteJsonAsync(response, 200, Logprobs),
            _ => FakeOpenAiServer.WriteJsonAsync(response, 404, "{}"),
        });
        await using var session = await new OpenAiBackend(Fast).LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);
        var scorer = Assert.IsAssignableFrom<ILogLikelihoodScorer>(session);

        var result = await scorer.ScoreContinuationsAsync(
            new LogLikelihoodRequest(new RenderedPrompt([], "Paris is "), ["nice"]), CancellationToken.None);

        // The context's trailing space moves to the continuation (lm-eval): " nice" is scored after "Paris is".
        var sent = server.To("/v1/completions").Last().Json;
        Assert.Equal("Paris is nice", sent.GetProperty("prompt").GetString());
        Assert.True(sent.GetProperty("echo").GetBoolean());
        Assert.Equal("Paris is", result.PromptText);
        Assert.Equal(2, result.PromptTokens);
        var score = Assert.Single(result.Continuations);
        Assert.Equal(-0.25, score.LogProbability);
        Assert.Equal(1, score.TokenCount);
        Assert.False(score.IsGreedy);
    }
}
