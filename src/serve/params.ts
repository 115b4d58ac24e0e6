// Request bodies of /v1/completions and /v1/chat/completions, read the way vLLM reads them: its parameter names,
// ranges and defaults (null is the same as absent), its extra parameters (top_k, min_p, stop_token_ids,
// ignore_eos, include_stop_str_in_output, add_special_tokens, add_generation_prompt). A parameter we do not
// implement is a 400 naming it when it asks for something (a penalty other than neutral, best_of > 1, tools),
// never silently ignored; fields no one checks (user, metadata) pass. Pure functions: tested without a model.
import { parseMessages, type ChatMessage } from '../sample/chat.js';
import { invalid } from './errors.js';

/** Alternatives per token at most, as vLLM's default --max-logprobs. */
export const MAX_LOGPROBS = 20;
/** Choices per request at most (n x prompts): every one holds a decoding slot's state. */
export const MAX_CHOICES = 1024;

export type Body = Record<string, unknown>;

export interface CommonParams {
  /** The model asked for; undefined when the request names none. */
  model?: string;
  n: number;
  temperature: number;
  topP: number;
  /** 0 is off (vLLM's -1 and 0). */
  topK: number;
  minP: number;
  /** undefined: the endpoint's default (16 for completions, the rest of the context for chat). */
  maxTokens?: number;
  stop: string[];
  stopTokenIds: number[];
  /** undefined: the server draws one. */
  seed?: number;
  ignoreEos: boolean;
  includeStopStr: boolean;
  stream: boolean;
  includeUsage: boolean;
  /** Alternatives reported per token (0: the chosen token only); null: no log-probs. */
  logprobs: number | null;
}

export interface CompletionParams extends CommonParams {
  kind: 'completion';
  /** Each prompt: text, or token ids. */
  prompts: (string | number[])[];
  echo: boolean;
  /** Prepend the tokenizer's BOS to text prompts; undefined: the server's --bos. */
  addSpecialTokens?: boolean;
}

export interface ChatParams extends CommonParams {
  kind: 'chat';
  messages: ChatMessage[];
  addGenerationPrompt: boolean;
}

const has = (b: Body, k: string) => b[k] !== undefined && b[k] !== null;
const show = (v: unknown) => JSON.stringify(v)?.slice(0, 80) ?? String(v);

interface NumRule {
  int?: boolean;
  min?: number;
  max?: number;
  /** min is excluded. */
  above?: boolean;
}

function num(b: Body, k: string, def: number, r?: NumRule): number;
function num(b: Body, k: string, def: undefined, r?: NumRule): number | undefined;
function num(b: Body, k: string, def: number | undefined, r: NumRule = {}): number | undefined {
  if (!has(b, k)) return def;
  const v = b[k];
  const range = `${r.min === undefined ? '' : `${r.above ? '>' : '>='} ${r.min}`}${r.min !== undefined && r.max !== undefined ? ' and ' : ''}${r.max === undefined ? '' : `<= ${r.max}`}`;
  const what = `${r.int ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || (r.int && !Number.isSafeInteger(v))) throw invalid(k, `"${k}" must be ${what} (got ${show(v)})`);
  if ((r.min !== undefined && (r.above ? v <= r.min : v < r.min)) || (r.max !== undefined && v > r.max)) throw invalid(k, `"${k}" must be ${what} (got ${v})`);
  return v;
}

function bool(b: Body, k: string, def: boolean): boolean {
  if (!has(b, k)) return def;
  if (typeof b[k] !== 'boolean') throw invalid(k, `"${k}" must be true or false (got ${show(b[k])})`);
  return b[k] as boolean;
}

function stops(b: Body): string[] {
  if (!has(b, 'stop')) return [];
  const v = b.stop;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw invalid('stop', `"stop" must be a string or an array of strings (got ${show(v)})`);
  if (list.some((s) => s === '')) throw invalid('stop', '"stop" strings must not be empty');
  return [...new Set(list as string[])];
}

function tokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isSafeInteger(x));
}

/**
 * Parameters that vLLM or OpenAI define and this server does not implement: accepted at their neutral value, a
 * 400 otherwise (a client asking for a penalty must not get unpenalised samples without knowing).
 */
function unsupported(b: Body): void {
  const neutral: [string, (v: unknown) => boolean, string][] = [
    ['presence_penalty', (v) => v === 0, 'penalties are not implemented'],
    ['frequency_penalty', (v) => v === 0, 'penalties are not implemented'],
    ['repetition_penalty', (v) => v === 1, 'penalties are not implemented'],
    ['length_penalty', (v) => v === 1, 'beam search is not implemented'],
    ['use_beam_search', (v) => v === false, 'beam search is not implemented'],
    ['min_tokens', (v) => v === 0, 'min_tokens is not implemented'],
    ['logit_bias', (v) => typeof v === 'object' && Object.keys(v as object).length === 0, 'logit_bias is not implemented'],
    ['suffix', (v) => v === '', 'suffix is not supported (as in vLLM)'],
    ['prompt_logprobs', () => false, 'prompt_logprobs is not implemented: use echo with logprobs on /v1/completions'],
    ['tools', (v) => Array.isArray(v) && v.length === 0, 'tool calling is not implemented'],
    ['functions', (v) => Array.isArray(v) && v.length === 0, 'function calling is not implemented'],
    ['response_format', (v) => typeof v === 'object' && (v as { type?: unknown }).type === 'text', 'structured output (response_format) is not implemented'],
    ['guided_json', () => false, 'guided decoding is not implemented'],
    ['guided_regex', () => false, 'guided decoding is not implemented'],
    ['guided_choice', () => false, 'guided decoding is not implemented'],
    ['guided_grammar', () => false, 'guided decoding is not implemented'],
    ['structured_outputs', () => false, 'structured outputs are not implemented'],
  ];
  for (const [k, ok, why] of neutral) if (has(b, k) && !ok(b[k])) throw invalid(k, `"${k}": ${why}`, 'unsupported_parameter');
  // Current vLLM (V1) refuses best_of; n samples are what it offers instead.
  if (has(b, 'best_of') && b.best_of !== 1) throw invalid('best_of', '"best_of" is not supported (as in current vLLM): ask for n samples and choose among them', 'unsupported_parameter');
}

function common(b: Body): Omit<CommonParams, 'logprobs' | 'maxTokens'> {
  unsupported(b);
  let model: string | undefined;
  if (has(b, 'model')) {
    if (typeof b.model !== 'string') throw invalid('model', `"model" must be a string (got ${show(b.model)})`);
    model = b.model;
  }
  const n = num(b, 'n', 1, { int: true, min: 1, max: MAX_CHOICES });
  const topK = num(b, 'top_k', 0, { int: true, min: -1 });
  const stopTokenIds = has(b, 'stop_token_ids') ? b.stop_token_ids : [];
  if (!tokenIds(stopTokenIds) || stopTokenIds.some((t) => t < 0)) throw invalid('stop_token_ids', `"stop_token_ids" must be an array of token ids (integers >= 0) (got ${show(stopTokenIds)})`);
  const stream = bool(b, 'stream', false);
  let includeUsage = false;
  if (has(b, 'stream_options')) {
    const so = b.stream_options;
    if (!stream) throw invalid('stream_options', '"stream_options" can only be given with "stream": true');
    if (typeof so !== 'object' || Array.isArray(so)) throw invalid('stream_options', `"stream_options" must be an object (got ${show(so)})`);
    includeUsage = bool(so as Body, 'include_usage', false);
  }
  return {
    model,
    n,
    temperature: num(b, 'temperature', 1, { min: 0 }),
    topP: num(b, 'top_p', 1, { min: 0, above: true, max: 1 }),
    topK: topK === -1 ? 0 : topK,
    minP: num(b, 'min_p', 0, { min: 0, max: 1 }),
    stop: stops(b),
    stopTokenIds: [...new Set(stopTokenIds)],
    seed: num(b, 'seed', undefined, { int: true }),
    ignoreEos: bool(b, 'ignore_eos', false),
    includeStopStr: bool(b, 'include_stop_str_in_output', false),
    stream,
    includeUsage,
  };
}

function object(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(null, 'the request body must be a JSON object');
  return body as Body;
}

/** /v1/completions: prompt (text, texts, token ids, or lists of token ids), echo, logprobs 0..20. */
export function completionParams(body: unknown): CompletionParams {
  const b = object(body);
  if (!has(b, 'prompt')) throw invalid('prompt', '"prompt" is required');
  const p = b.prompt;
  let prompts: (string | number[])[];
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else if (tokenIds(p) && p.length) prompts = [p];
  else if (Array.isArray(p) && p.length && p.every((x) => tokenIds(x) && x.length)) prompts = p as number[][];
  else throw invalid('prompt', '"prompt" must be a string, a non-empty array of strings, an array of token ids, or an array of such arrays');
  const c = common(b);
  if (c.n * prompts.length > MAX_CHOICES) throw invalid('n', `n x prompts is ${c.n * prompts.length}: at most ${MAX_CHOICES} choices per request`);
  const logprobs = num(b, 'logprobs', undefined, { int: true, min: 0, max: MAX_LOGPROBS });
  let addSpecialTokens: boolean | undefined;
  if (has(b, 'add_special_tokens')) addSpecialTokens = bool(b, 'add_special_tokens', false);
  return {
    kind: 'completion',
    ...c,
    maxTokens: num(b, 'max_tokens', 16, { int: true, min: 1 }),
    logprobs: logprobs ?? null,
    prompts,
    echo: bool(b, 'echo', false),
    addSpecialTokens,
  };
}

/** /v1/chat/completions: messages, logprobs true with top_logprobs 0..20, max_tokens or max_completion_tokens. */
export function chatParams(body: unknown): ChatParams {
  const b = object(body);
  if (!has(b, 'messages')) throw invalid('messages', '"messages" is required');
  const messages = parseMessages(b.messages);
  if (typeof messages === 'string') throw invalid('messages', `"messages" ${messages}`);
  const c = common(b);
  if (bool(b, 'echo', false)) throw invalid('echo', '"echo" is not supported on chat completions (use /v1/completions)', 'unsupported_parameter');
  const logprobs = bool(b, 'logprobs', false);
  const top = num(b, 'top_logprobs', undefined, { int: true, min: 0, max: MAX_LOGPROBS });
  if (top !== undefined && top > 0 && !logprobs) throw invalid('top_logprobs', '"top_logprobs" needs "logprobs": true');
  const maxTokens = num(b, 'max_completion_tokens', undefined, { int: true, min: 1 }) ?? num(b, 'max_tokens', undefined, { int: true, min: 1 });
  return {
    kind: 'chat',
    ...c,
    maxTokens,
    logprobs: logprobs ? (top ?? 0) : null,
    messages,
    addGenerationPrompt: bool(b, 'add_generation_prompt', true),
  };
}
