// `serve` in this process on a tiny checkpoint, through the official `openai` client: completions and chat, with
// and without streaming (usage included), logprobs against the trainer's, echo, stops, seeds giving the
// Generator's own samples, concurrent requests sharing one batch, the error codes (400 with the parameter named,
// 401, 404, 405, 413), the tokenizer endpoints, /metrics, and a client that goes away freeing its slots.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import OpenAI from 'openai';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { loadCheckpoint } from '../../src/sample/load.js';
import { NEUTRAL, type SamplingParams } from '../../src/sample/sampling.js';
import { Engine } from '../../src/serve/engine.js';
import { ApiServer } from '../../src/serve/server.js';
import { tinyConfig, writeTinyCheckpoint } from '../sample/fixtures.js';

const KEY = 'test-key';
let engine: Engine;
let api: ApiServer;
let base = '';
let client: OpenAI;

t.before(async () => {
  await initBackend('wasm');
  const ck = join(t.testdir(), 'ck');
  await writeTinyCheckpoint(ck, { step: 2, config: tinyConfig({ max_position_embeddings: 4096 }) });
  engine = new Engine(loadCheckpoint(ck), { names: ['tiny', 'alias'], batchSize: 8, bos: false, seed: 1 });
  api = new ApiServer(engine, { apiKey: KEY, maxBodyBytes: 64 * 1024, version: '9.9.9' });
  const { port } = await api.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0, timeout: 120_000 });
});
t.teardown(async () => {
  await api.shutdown(0);
  engine.dispose();
});

/** vLLM's extra sampling parameters, which the client passes through as they are. */
interface Extra {
  top_k?: number;
  min_p?: number;
  stop_token_ids?: number[];
  ignore_eos?: boolean;
  include_stop_str_in_output?: boolean;
}
type CompletionBody = OpenAI.CompletionCreateParamsNonStreaming & Extra;
type ChatBody = OpenAI.ChatCompletionCreateParamsNonStreaming & Extra;

/** What the Generator itself gives for these ids (stream i: the prompt's index in the request). */
async function direct(ids: number[], p: Partial<SamplingParams>, stream = 0, stopIds: number[] = []) {
  return engine.gen.submit({ prompt: ids, params: { ...NEUTRAL, ...p, stopTokenIds: [...(p.stopTokenIds ?? []), ...stopIds] }, stream });
}

/** An HTTP request without the client (raw bodies, missing keys). */
async function raw(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers.authorization = `Bearer ${init.key ?? KEY}`;
  const res = await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as { error: { message: string; type: string; param: string | null; code: string | null } } };
}

async function apiError(t: Test, p: Promise<unknown>, status: number, param: string | null, message: RegExp): Promise<void> {
  try {
    await p;
    t.fail(`wanted HTTP ${status}`);
  } catch (e) {
    t.ok(e instanceof OpenAI.APIError, String(e));
    const err = e as InstanceType<typeof OpenAI.APIError>;
    t.equal(err.status, status, err.message);
    t.equal(err.param ?? null, param);
    t.match(err.message, message);
  }
}

t.test('completions: the Generator\'s samples for the seed, n choices per prompt, usage filled', async (t) => {
  const r = await client.completions.create({ model: 'tiny', prompt: ['Hello', '2+2='], n: 3, max_tokens: 12, seed: 5, temperature: 0.8, top_p: 0.95 });
  t.equal(r.object, 'text_completion');
  t.equal(r.model, 'tiny');
  t.match(r.id, /^cmpl-/);
  t.same(r.choices.map((c) => c.index), [0, 1, 2, 3, 4, 5]);
  let tokens = 0;
  for (const [i, prompt] of ['Hello', '2+2='].entries()) {
    const want = await direct(engine.encode(prompt, false), { n: 3, maxTokens: 12, seed: 5, temperature: 0.8, topP: 0.95 }, i);
    for (const s of want) {
      const c = r.choices[i * 3 + s.index];
      t.equal(c.text, s.text);
      t.equal(c.finish_reason, s.finishReason);
      tokens += s.tokens.length;
    }
  }
  t.same(r.usage, { prompt_tokens: 5 + 4, completion_tokens: tokens, total_tokens: 9 + tokens });
  // Token ids as the prompt; the other model name; no seed: the server draws one (two requests differ).
  const ids = await client.completions.create({ model: 'alias', prompt: [72, 101, 108, 108, 111], max_tokens: 12, seed: 5, temperature: 0.8, top_p: 0.95 });
  t.equal(ids.choices[0].text, r.choices[0].text);
  const u1 = await client.completions.create({ model: 'tiny', prompt: 'Hello', max_tokens: 16, ignore_eos: true } as CompletionBody);
  const u2 = await client.completions.create({ model: 'tiny', prompt: 'Hello', max_tokens: 16, ignore_eos: true } as CompletionBody);
  t.not(u1.choices[0].text, u2.choices[0].text, 'unseeded requests get different seeds');
  t.equal(u1.usage!.completion_tokens, 16);
});

t.test('streaming completions: the same text in chunks, finish reasons, usage last with include_usage', async (t) => {
  const body = { model: 'tiny', prompt: 'Hello', n: 2, max_tokens: 20, seed: 11, stop: ['zz'] };
  const whole = await client.completions.create(body);
  const stream = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  const text = ['', ''];
  const finish: (string | null)[] = [null, null];
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const ch of stream) {
    chunks++;
    if (ch.usage) {
      usage = ch.usage;
      t.same(ch.choices, [], 'the usage chunk has no choices');
      continue;
    }
    for (const c of ch.choices) {
      t.equal(finish[c.index], null, 'nothing after a choice\'s finish');
      text[c.index] += c.text;
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  t.ok(chunks > 4);
  t.same(text, whole.choices.map((c) => c.text));
  t.same(finish, whole.choices.map((c) => c.finish_reason));
  t.same(usage, whole.usage);
  // Without include_usage no usage chunk; [DONE] ends the stream (the client stops on it).
  const plain = await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
  t.equal(plain.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events = plain.text.split('\n\n').filter(Boolean);
  t.equal(events.at(-1), 'data: [DONE]');
  t.notOk(plain.text.includes('"usage"'));
});

t.test('chat: the checkpoint\'s template, its end of turn stops; streaming gives the same message', async (t) => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is 2+3?' },
  ];
  const r = await client.chat.completions.create({ model: 'tiny', messages, n: 2, max_tokens: 24, seed: 3 });
  t.equal(r.object, 'chat.completion');
  const ids = engine.renderChat(messages as { role: string; content: string }[], true);
  t.equal(r.usage!.prompt_tokens, ids.length);
  const want = await direct(ids, { n: 2, maxTokens: 24, seed: 3 }, 0, engine.chat.stopIds);
  t.same(r.choices.map((c) => c.message.content), want.map((s) => s.text));
  t.same(r.choices.map((c) => c.message.role), ['assistant', 'assistant']);
  const stream = await client.chat.completions.create({ model: 'tiny', messages, n: 2, max_tokens: 24, seed: 3, stream: true, stream_options: { include_usage: true } });
  const text = ['', ''];
  const roles: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const ch of stream) {
    t.equal(ch.object, 'chat.completion.chunk');
    if (ch.usage) usage = ch.usage;
    for (const c of ch.choices) {
      if (c.delta.role) roles.push(c.delta.role);
      text[c.index] += c.delta.content ?? '';
    }
  }
  t.same(roles, ['assistant', 'assistant'], 'the role comes first, once per choice');
  t.same(text, want.map((s) => s.text));
  t.same(usage, r.usage);
  // max_tokens defaults to the rest of the context (vLLM's default for chat).
  const long = await client.chat.completions.create({ model: 'tiny', messages, seed: 3, stop: ['q'], ignore_eos: true } as ChatBody);
  t.equal(long.choices[0].finish_reason, 'stop');
});

t.test('logprobs: the trainer\'s log-probs, the top alternatives of the model\'s distribution; echo', async (t) => {
  const model = engine.loaded.model;
  const prompt = 'Hello';
  const ids = engine.encode(prompt, false);
  const r = await client.completions.create({ model: 'tiny', prompt, max_tokens: 10, seed: 2, logprobs: 3, ignore_eos: true } as CompletionBody);
  const lp = r.choices[0].logprobs!;
  const [s] = await direct(ids, { maxTokens: 10, seed: 2, ignoreEos: true });
  t.equal(lp.tokens!.length, 10);
  const seq = [...ids, ...s.tokens];
  const [trainer] = await model.logprobs([seq]);
  // The full distribution at each generated position, by recomputation.
  const logits = tf.tidy(() => tf.logSoftmax(model.logits(tf.tensor2d(Int32Array.from(seq), [1, seq.length], 'int32'))));
  const rows = (await logits.array()) as number[][];
  logits.dispose();
  for (let k = 0; k < 10; k++) {
    t.ok(Math.abs(lp.token_logprobs![k] - trainer[ids.length - 1 + k]) < 1e-4, `token ${k}: the trainer's log-prob`);
    const top = Object.values(lp.top_logprobs![k]).sort((a, b) => b - a);
    const best = [...rows[ids.length - 1 + k]].sort((a, b) => b - a).slice(0, 3);
    // Keys are token texts (several byte tokens share "\ufffd"): compare the best value and the count.
    t.ok(Math.abs(top[0] - best[0]) < 1e-4, 'the most likely alternative');
    t.ok(Object.keys(lp.top_logprobs![k]).length <= 4);
  }
  t.same(lp.text_offset!.slice(0, 3), [0, 1, 2]);
  // Chat: alternatives with their bytes, exactly the k most likely.
  const chat = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6, seed: 2, logprobs: true, top_logprobs: 5 });
  const content = chat.choices[0].logprobs!.content!;
  t.equal(content.length, chat.usage!.completion_tokens);
  for (const c of content) {
    t.equal(c.top_logprobs.length, 5);
    const values = c.top_logprobs.map((x) => x.logprob);
    t.same(values, [...values].sort((a, b) => b - a), 'most likely first');
    t.ok(c.logprob <= values[0] + 1e-6);
    t.ok(Array.isArray(c.bytes));
  }
  // Echo: the prompt comes first, its tokens scored by the trainer's forward (the first has none).
  const echo = await client.completions.create({ model: 'tiny', prompt, max_tokens: 4, seed: 2, logprobs: 1, echo: true, ignore_eos: true } as CompletionBody);
  const e = echo.choices[0];
  t.ok(e.text.startsWith(prompt));
  t.equal(e.text, prompt + s.text.slice(0, e.text.length - prompt.length));
  const elp = e.logprobs!;
  t.equal(elp.tokens!.length, ids.length + 4);
  t.equal(elp.token_logprobs![0], null);
  t.equal(elp.top_logprobs![0], null);
  for (let k = 1; k < ids.length + 4; k++) t.ok(Math.abs(elp.token_logprobs![k]! - trainer[k - 1]) < 1e-4, `echo token ${k}`);
  // A streamed echo: the prompt in the first chunk.
  const st = await client.completions.create({ model: 'tiny', prompt, max_tokens: 4, seed: 2, echo: true, stream: true });
  let first: string | undefined;
  for await (const ch of st) first ??= ch.choices[0]?.text;
  t.equal(first, prompt);
});

t.test('stops: stop strings (and include_stop_str_in_output), stop_token_ids with stop_reason', async (t) => {
  const base = { model: 'tiny', prompt: 'Hello', max_tokens: 30, seed: 4, ignore_eos: true };
  const free = (await client.completions.create(base as CompletionBody)).choices[0].text;
  const chars = Array.from(free);
  const stop = chars.slice(6, 8).join('');
  const cut = (await client.completions.create({ ...base, stop: [stop] } as CompletionBody)).choices[0];
  t.equal(cut.finish_reason, 'stop');
  t.equal((cut as unknown as { stop_reason: string }).stop_reason, stop);
  t.equal(cut.text, free.slice(0, free.indexOf(stop)));
  const kept = (await client.completions.create({ ...base, stop: [stop], include_stop_str_in_output: true } as CompletionBody)).choices[0];
  t.equal(kept.text, cut.text + stop);
  const ids = engine.encode(free, false);
  const byId = (await client.completions.create({ ...base, stop_token_ids: [ids[3]] } as CompletionBody)).choices[0];
  t.equal((byId as unknown as { stop_reason: number }).stop_reason, ids[3]);
  t.equal(byId.finish_reason, 'stop');
});

t.test('concurrent requests decode in one batch', async (t) => {
  const before = engine.gen.stats.decodeSteps;
  const rs = await Promise.all(
    [1, 2, 3, 4].map((seed) => client.completions.create({ model: 'tiny', prompt: `Q${seed}`, max_tokens: 40, seed, ignore_eos: true } as CompletionBody)),
  );
  const steps = engine.gen.stats.decodeSteps - before;
  t.ok(steps < 80, `${steps} decoding steps for 4 x 40 tokens`);
  for (const [i, r] of rs.entries()) {
    const [s] = await direct(engine.encode(`Q${i + 1}`, false), { maxTokens: 40, seed: i + 1, ignoreEos: true });
    t.equal(r.choices[0].text, s.text, 'the same samples as alone');
  }
});

t.test('errors: OpenAI\'s body, the parameter named, the status codes', async (t) => {
  await apiError(t, client.completions.create({ model: 'tiny', prompt: 'x', best_of: 2 }), 400, 'best_of', /best_of.*not supported/);
  await apiError(t, client.completions.create({ model: 'tiny', prompt: 'x', temperature: -1 }), 400, 'temperature', />= 0/);
  await apiError(t, client.completions.create({ model: 'tiny', prompt: 'x', logprobs: 21 }), 400, 'logprobs', /<= 20/);
  await apiError(t, client.completions.create({ model: 'tiny', prompt: 'x', stop_token_ids: [99999] } as CompletionBody), 400, 'stop_token_ids', /outside the model's vocabulary/);
  await apiError(t, client.completions.create({ model: 'tiny', prompt: [[5, 100000]] }), 400, 'prompt', /token id 100000 is outside/);
  await apiError(t, client.completions.create({ model: 'tiny', prompt: '' }), 400, 'prompt', /empty/);
  await apiError(t, client.completions.create({ model: 'tiny', prompt: 'Hello', max_tokens: 4092 }), 400, 'prompt', /maximum context length is 4096 tokens\. However, you requested 4097 tokens \(5 in the prompt, 4092 for the completion\)/);
  await apiError(t, client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 5000 }), 400, 'messages', /4096 tokens.*\(\d+ in the messages, 5000 for the completion\)/);
  await apiError(t, client.chat.completions.create({ model: 'tiny', messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }), 400, 'messages', /chat template .* refused/);
  await apiError(t, client.completions.create({ model: 'gpt-4', prompt: 'x' }), 404, 'model', /The model `gpt-4` does not exist/);
  await apiError(t, new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong', maxRetries: 0 }).models.list(), 401, null, /Incorrect API key/);
  const nokey = await raw('/v1/models', { key: null });
  t.equal(nokey.status, 401);
  t.equal(nokey.headers.get('www-authenticate'), 'Bearer');
  t.same(nokey.json.error, { message: nokey.json.error.message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
  const bad = await raw('/v1/completions', { method: 'POST', body: '{"prompt": "x",' });
  t.equal(bad.status, 400);
  t.match(bad.json.error, { type: 'invalid_request_error', param: null, code: 'invalid_json', message: /not valid JSON/ });
  t.equal((await raw('/v1/completions', { method: 'POST', body: '' })).status, 400);
  t.equal((await raw('/v1/completions', { method: 'POST', body: '[1]' })).json.error.message, 'the request body must be a JSON object');
  const big = await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(100_000) }) });
  t.equal(big.status, 413);
  t.match(big.json.error, { code: 'request_too_large', message: /65536 bytes/ });
  const get = await raw('/v1/completions');
  t.equal(get.status, 405);
  t.equal(get.headers.get('allow'), 'POST');
  t.equal((await raw('/v1/nothing')).status, 404);
  t.equal((await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x', stream_options: { include_usage: true } }) })).json.error.param, 'stream_options');
  // Health, version and metrics need no key (probes and scrapers).
  t.equal((await raw('/health', { key: null })).status, 200);
  t.same((await raw('/version', { key: null })).json, { version: '9.9.9' });
});

t.test('models, tokenize, detokenize', async (t) => {
  const models = await client.models.list();
  t.same(models.data.map((m) => m.id), ['tiny', 'alias']);
  t.match(models.data[0], { object: 'model', owned_by: 'mathpipe', max_model_len: 4096 });
  t.equal((await client.models.retrieve('alias')).id, 'alias');
  const tok = await raw('/tokenize', { method: 'POST', body: JSON.stringify({ model: 'tiny', prompt: 'Hi!', return_token_strs: true }) });
  t.same(tok.json, { count: 3, max_model_len: 4096, tokens: [72, 105, 33], token_strs: ['H', 'i', '!'] });
  const bos = await raw('/tokenize', { method: 'POST', body: JSON.stringify({ prompt: 'Hi', add_special_tokens: true }) });
  t.same((bos.json as unknown as { tokens: number[] }).tokens, [256, 72, 105]);
  const chat = await raw('/tokenize', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }) });
  t.same((chat.json as unknown as { tokens: number[] }).tokens, engine.renderChat([{ role: 'user', content: 'Hi' }], true));
  t.same((await raw('/detokenize', { method: 'POST', body: JSON.stringify({ tokens: [72, 105, 257] }) })).json, { prompt: 'Hi<|end_of_text|>' });
  t.equal((await raw('/detokenize', { method: 'POST', body: JSON.stringify({ tokens: [1e6] }) })).status, 400);
});

/** Poll until f() holds (the server sees a closed connection on its next turn). */
async function until(f: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

t.test('a client that goes away cancels its request and frees its slots', async (t) => {
  const m = api.metrics;
  const tokens0 = m.generationTokens.get();
  // 8 samples x 4000 tokens fill every slot for a long while: the abort must free them.
  const ac = new AbortController();
  const stream = await client.completions.create({ model: 'tiny', prompt: 'Hello', n: 8, max_tokens: 4000, ignore_eos: true, stream: true } as OpenAI.CompletionCreateParamsStreaming, { signal: ac.signal });
  let got = 0;
  try {
    for await (const _ of stream)
      if (++got === 3) {
        ac.abort();
        break;
      }
  } catch (e) {
    t.match(String(e), /abort/i);
  }
  t.ok(await until(() => m.running === 0 && m.waiting === 0), 'nothing left decoding');
  t.equal(m.cancelled.get({ reason: 'client' }), 1);
  const after = await client.completions.create({ model: 'tiny', prompt: 'Hi', max_tokens: 5, ignore_eos: true } as CompletionBody);
  t.equal(after.usage!.completion_tokens, 5, 'a later request gets a slot');
  t.ok(m.generationTokens.get() - tokens0 < 8 * 4000 * 0.5, `${m.generationTokens.get() - tokens0} tokens generated of 32005 asked`);
  // The same for a request without streaming, dropped while it decodes.
  const ac2 = new AbortController();
  const pending = client.completions.create({ model: 'tiny', prompt: 'Hello', n: 8, max_tokens: 4000, ignore_eos: true } as CompletionBody, { signal: ac2.signal });
  pending.catch(() => {});
  t.ok(await until(() => m.running > 0));
  ac2.abort();
  await t.rejects(pending, /abort/i);
  t.ok(await until(() => m.running === 0 && m.waiting === 0 && m.cancelled.get({ reason: 'client' }) === 2), 'cancelled, slots free');
  t.ok(m.generationTokens.get() - tokens0 < 2 * 8 * 4000 * 0.5);
});

t.test('/metrics: requests, tokens, queue depth, latency', async (t) => {
  const r = await raw('/metrics', { key: null });
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const value = (re: RegExp) => Number(re.exec(r.text)?.[1] ?? NaN);
  t.ok(value(/^mathpipe_http_requests_total\{endpoint="\/v1\/completions",code="200"\} (\d+)$/m) >= 10);
  t.ok(value(/^mathpipe_http_requests_total\{endpoint="\/v1\/completions",code="400"\} (\d+)$/m) >= 5);
  t.ok(value(/^mathpipe_http_requests_total\{endpoint="\/v1\/completions",code="cancelled"\} (\d+)$/m) >= 1);
  t.equal(value(/^mathpipe_http_requests_total\{endpoint="\/v1\/models",code="401"\} (\d+)$/m), 2);
  t.ok(value(/^mathpipe_prompt_tokens_total (\d+)$/m) > 20);
  t.ok(value(/^mathpipe_generation_tokens_total (\d+)$/m) > 100);
  t.equal(value(/^mathpipe_num_requests_waiting (\d+)$/m), 0);
  t.equal(value(/^mathpipe_num_requests_running (\d+)$/m), 0);
  t.ok(value(/^mathpipe_e2e_request_latency_seconds_count (\d+)$/m) >= 10);
  t.ok(value(/^mathpipe_time_to_first_token_seconds_count (\d+)$/m) >= 10);
  t.equal(value(/^mathpipe_requests_cancelled_total\{reason="client"\} (\d+)$/m), 2);
  t.ok(value(/^mathpipe_decode_steps_total (\d+)$/m) > 0);
});
