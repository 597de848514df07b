// Scores multiple-choice continuations with an independent llama.cpp build (node-llama-cpp's prebuilt CPU binaries),
// the way lm-evaluation-harness's HFLM does (lm_eval/api/model.py _encode_pair, lm_eval/models/huggingface.py
// _loglikelihood_tokens @4e7e0d4): trailing whitespace of the context moves to the continuation; the continuation's tokens
// are those of BOS + (context + continuation) after BOS + context's tokens; context and continuation go through the model in
// one forward pass from an empty cache, and the sum of log-softmax values of the continuation tokens is the score.
// No harness code is involved, so the harness's sums can be checked against it.
//
// Usage: node loglikelihood.mjs MODEL.gguf INPUT.jsonl > OUTPUT.jsonl
//   input lines:  {"id": "...", "context": "...", "continuations": ["...", ...]}
//   output lines: {"id", "context", "contextTokens": [...], "continuations": [{"continuation", "tokens", "logLikelihood", "greedy"}]}
import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const [modelPath, inputPath] = process.argv.slice(2);
if (!modelPath || !inputPath) {
    console.error("usage: node loglikelihood.mjs MODEL.gguf INPUT.jsonl");
    process.exit(2);
}

const requests = readFileSync(inputPath, "utf8").split("\n").filter(line => line.trim() !== "").map((line, index) => {
    try {
        return JSON.parse(line);
    } catch (error) {
        throw new Error(`${inputPath}:${index + 1}: not JSON (${error.message})`);
    }
});

// CPU only, never build or download: the prebuilt binary of the pinned package is the engine under test.
const llama = await getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const context = await model.createContext({ contextSize: 512, batchSize: 512, threads: 1, sequences: 1, flashAttention: false });
const sequence = context.getSequence();

// HF's tokenizer(text) with its default add_special_tokens: BOS when the vocabulary asks for it, then the text.
const encode = text => [...(model.tokens.bos != null && model.tokens.shouldPrependBosToken ? [model.tokens.bos] : []), ...model.tokenize(text, false)];

for (const request of requests) {
    const rendered = request.context;
    const contextText = rendered.trimEnd();
    const moved = rendered.slice(contextText.length);
    const contextTokens = encode(contextText);
    const continuations = [];
    for (const continuation of request.continuations) {
        const whole = encode(contextText + moved + continuation);
        const tokens = whole.slice(contextTokens.length);
        const input = [...contextTokens, ...tokens.slice(0, -1)];
        await sequence.clearHistory();
        // Logits after each position whose next token is a continuation token: the last context token and all but the
        // last continuation token.
        const items = input.map((token, i) => i >= contextTokens.length - 1 ? [token, { generateNext: { logits: true } }] : token);
        const outputs = await sequence.controlledEvaluate(items);
        let logLikelihood = 0;
        let greedy = true;
        for (let j = 0; j < tokens.length; j++) {
            const logits = outputs[contextTokens.length - 1 + j].next.logits;
            let max = -Infinity;
            let argMax = -1;
            for (const [token, logit] of logits) {
                if (logit > max) {
                    max = logit;
                    argMax = token;
                }
            }
            let sum = 0;
            for (const logit of logits.values()) sum += Math.exp(logit - max);
            logLikelihood += logits.get(tokens[j]) - max - Math.log(sum);
            greedy &&= argMax === tokens[j];
        }
        continuations.push({ continuation, tokens, logLikelihood, greedy });
    }
    process.stdout.write(JSON.stringify({ id: request.id, context: contextText, contextTokens, continuations }) + "\n");
}

await context.dispose();
await model.dispose();
await llama.dispose();
