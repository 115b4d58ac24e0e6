// Request parsing of `serve` without a model: vLLM's names, defaults and ranges; a 400 naming the parameter for a
// bad value or an unimplemented feature; the Prometheus text of /metrics.
import t, { type Test } from 'tap';
import { ApiError } from '../../src/serve/errors.js';
import { chatParams, completionParams, MAX_CHOICES } from '../../src/serve/params.js';
import { ServerMetrics } from '../../src/serve/metrics.js';
import { baseUrl } from '../../src/serve/run.js';

function refused(t: Test, f: () => unknown, param: string | null, message: RegExp, code?: string): void {
  try {
    f();
    t.fail(`accepted; wanted a 400 for ${param}`);
  } catch (e) {
    t.ok(e instanceof ApiError, String(e));
    const err = e as ApiError;
    t.equal(err.status, 400);
    t.equal(err.param, param);
    t.match(err.message, message);
    if (code) t.equal(err.code, code);
    t.same(Object.keys(err.body().error), ['message', 'type', 'param', 'code']);
  }
}

t.test('completions: defaults are OpenAI\'s and vLLM\'s; the prompt forms', async (t) => {
  const p = completionParams({ prompt: 'hi' });
  t.match(p, { n: 1, temperature: 1, topP: 1, topK: 0, minP: 0, maxTokens: 16, stop: [], stopTokenIds: [], seed: undefined, ignoreEos: false, stream: false, includeUsage: false, logprobs: null, echo: false, prompts: ['hi'] });
  t.same(completionParams({ prompt: ['a', 'b'] }).prompts, ['a', 'b']);
  t.same(completionParams({ prompt: [1, 2, 3] }).prompts, [[1, 2, 3]]);
  t.same(completionParams({ prompt: [[1], [2, 3]] }).prompts, [[1], [2, 3]]);
  const q = completionParams({ prompt: 'x', n: 3, temperature: 0, top_p: 0.5, top_k: -1, min_p: 0.1, max_tokens: 7, stop: '\n', stop_token_ids: [5, 5, 6], seed: 9, logprobs: 0, echo: true, stream: true, stream_options: { include_usage: true } });
  t.match(q, { n: 3, temperature: 0, topP: 0.5, topK: 0, minP: 0.1, maxTokens: 7, stop: ['\n'], stopTokenIds: [5, 6], seed: 9, logprobs: 0, echo: true, stream: true, includeUsage: true });
  // null is absent, as in the OpenAI clients; neutral values of unimplemented features pass.
  t.match(completionParams({ prompt: 'x', max_tokens: null, temperature: null, presence_penalty: 0, frequency_penalty: 0, best_of: 1, logit_bias: {}, suffix: null, user: 'u' }), { maxTokens: 16, temperature: 1 });
});

t.test('completions: bad values are 400s that name the parameter', async (t) => {
  refused(t, () => completionParams([1]), null, /JSON object/);
  refused(t, () => completionParams({}), 'prompt', /required/);
  refused(t, () => completionParams({ prompt: [] }), 'prompt', /must be a string/);
  refused(t, () => completionParams({ prompt: [1.5] }), 'prompt', /must be a string/);
  refused(t, () => completionParams({ prompt: 'x', temperature: -1 }), 'temperature', />= 0 \(got -1\)/);
  refused(t, () => completionParams({ prompt: 'x', temperature: 'hot' }), 'temperature', /a number/);
  refused(t, () => completionParams({ prompt: 'x', top_p: 0 }), 'top_p', /> 0 and <= 1/);
  refused(t, () => completionParams({ prompt: 'x', top_k: -2 }), 'top_k', />= -1/);
  refused(t, () => completionParams({ prompt: 'x', min_p: 2 }), 'min_p', /<= 1/);
  refused(t, () => completionParams({ prompt: 'x', n: 0 }), 'n', />= 1/);
  refused(t, () => completionParams({ prompt: ['a', 'b'], n: MAX_CHOICES }), 'n', /at most 1024 choices/);
  refused(t, () => completionParams({ prompt: 'x', max_tokens: 0 }), 'max_tokens', />= 1/);
  refused(t, () => completionParams({ prompt: 'x', max_tokens: 2.5 }), 'max_tokens', /integer/);
  refused(t, () => completionParams({ prompt: 'x', stop: [''] }), 'stop', /empty/);
  refused(t, () => completionParams({ prompt: 'x', stop: 3 }), 'stop', /string or an array/);
  refused(t, () => completionParams({ prompt: 'x', stop_token_ids: [-1] }), 'stop_token_ids', /integers >= 0/);
  refused(t, () => completionParams({ prompt: 'x', seed: 1.5 }), 'seed', /integer/);
  refused(t, () => completionParams({ prompt: 'x', logprobs: 21 }), 'logprobs', /<= 20 \(got 21\)/);
  refused(t, () => completionParams({ prompt: 'x', echo: 'yes' }), 'echo', /true or false/);
  refused(t, () => completionParams({ prompt: 'x', stream_options: { include_usage: true } }), 'stream_options', /"stream": true/);
  refused(t, () => completionParams({ prompt: 'x', best_of: 2 }), 'best_of', /not supported \(as in current vLLM\)/, 'unsupported_parameter');
  refused(t, () => completionParams({ prompt: 'x', presence_penalty: 0.5 }), 'presence_penalty', /not implemented/, 'unsupported_parameter');
  refused(t, () => completionParams({ prompt: 'x', logit_bias: { 5: 10 } }), 'logit_bias', /not implemented/);
  refused(t, () => completionParams({ prompt: 'x', suffix: 'end' }), 'suffix', /not supported/);
  refused(t, () => completionParams({ prompt: 'x', model: 7 }), 'model', /string/);
});

t.test('chat: messages, logprobs with top_logprobs, max_completion_tokens, no echo', async (t) => {
  const p = chatParams({ messages: [{ role: 'user', content: 'hi' }] });
  t.match(p, { kind: 'chat', maxTokens: undefined, logprobs: null, addGenerationPrompt: true, messages: [{ role: 'user', content: 'hi' }] });
  t.equal(chatParams({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] }).messages[0].content, 'ab');
  t.equal(chatParams({ messages: [{ role: 'user', content: 'x' }], logprobs: true }).logprobs, 0);
  t.equal(chatParams({ messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 5 }).logprobs, 5);
  t.equal(chatParams({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 9, max_tokens: 3 }).maxTokens, 9);
  refused(t, () => chatParams({ messages: [] }), 'messages', /non-empty array/);
  refused(t, () => chatParams({ messages: [{ role: 'user' }] }), 'messages', /message 0/);
  refused(t, () => chatParams({ messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }), 'top_logprobs', /needs "logprobs": true/);
  refused(t, () => chatParams({ messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 30 }), 'top_logprobs', /<= 20/);
  refused(t, () => chatParams({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] }), 'tools', /not implemented/);
  refused(t, () => chatParams({ messages: [{ role: 'user', content: 'x' }], echo: true }), 'echo', /not supported on chat/);
  refused(t, () => chatParams({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } }), 'response_format', /not implemented/);
});

t.test('metrics: Prometheus text exposition', async (t) => {
  const m = new ServerMetrics([{ name: 'x_total', help: 'x', read: () => 3, type: 'counter' }]);
  m.requests.inc({ endpoint: '/v1/completions', code: '200' });
  m.requests.inc({ endpoint: '/v1/completions', code: '200' });
  m.requests.inc({ endpoint: '/v1/completions', code: '400' });
  m.latency.observe(0.3);
  m.latency.observe(7);
  m.waiting = 2;
  const text = m.render();
  t.match(text, /^# HELP mathpipe_http_requests_total /m);
  t.match(text, /^# TYPE mathpipe_http_requests_total counter$/m);
  t.match(text, /^mathpipe_http_requests_total\{endpoint="\/v1\/completions",code="200"\} 2$/m);
  t.match(text, /^mathpipe_http_requests_total\{endpoint="\/v1\/completions",code="400"\} 1$/m);
  t.match(text, /^mathpipe_num_requests_waiting 2$/m);
  t.match(text, /^mathpipe_e2e_request_latency_seconds_bucket\{le="0.25"\} 0$/m);
  t.match(text, /^mathpipe_e2e_request_latency_seconds_bucket\{le="0.5"\} 1$/m);
  t.match(text, /^mathpipe_e2e_request_latency_seconds_bucket\{le="\+Inf"\} 2$/m);
  t.match(text, /^mathpipe_e2e_request_latency_seconds_count 2$/m);
  t.match(text, /^# TYPE x_total counter\nx_total 3$/m);
  // Every line is a comment or `name{labels} value`.
  for (const line of text.trim().split('\n')) t.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+\d.eInf]+)$/);
});

t.test('base URL: IPv6 hosts in brackets', async (t) => {
  t.equal(baseUrl('127.0.0.1', 8000), 'http://127.0.0.1:8000/v1');
  t.equal(baseUrl('::1', 80), 'http://[::1]:80/v1');
});
