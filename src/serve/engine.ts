// What the server serves: one loaded checkpoint with its tokenizer and chat template, and the one Generator all
// requests share (concurrent requests decode in one batch). It turns prompts into ids, and reports
// log-probabilities of the model's own distribution (log-softmax of the raw logits, what the trainer computes),
// with the most likely alternatives when asked: from the logits row each token was drawn from, or, for the
// prompt's tokens (echo), from the trainer's forward over the prompt.
import * as tf from '@tensorflow/tfjs';
import { chatFormat, type ChatFormat, type ChatMessage } from '../sample/chat.js';
import { Generator } from '../sample/generator.js';
import type { LoadedModel } from '../sample/load.js';
import type { BackendCapabilities } from '../train/backend.js';
import { Rng } from '../util/rng.js';
import { ApiError, invalid } from './errors.js';

export interface EngineOptions {
  /** Names a request's "model" may give; the first is the one responses carry. */
  names: string[];
  batchSize: number;
  /** Prepend the tokenizer's BOS to text prompts of /v1/completions unless a request says otherwise. */
  bos: boolean;
  /** Jinja chat template FILE instead of the checkpoint's. */
  chatTemplate?: string;
  /** Seeds the seeds of requests that give none. */
  seed: number;
  /** The backend's capabilities (initBackend), for the generator. */
  caps?: BackendCapabilities;
}

/** One reported token: its log-prob and, when asked, the most likely tokens at its position (id, log-prob). */
export interface TokenLogprob {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

const lenient = new TextDecoder('utf-8');

/** Ids of the k largest values of a logits row, largest first, ties to the lower id (NaN never chosen). */
export function topTokens(row: Float32Array, k: number): number[] {
  if (k <= 0) return [];
  const ids: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (!(v > -Infinity) || (ids.length === k && v <= vals[k - 1])) continue;
    let j = ids.length === k ? k - 1 : ids.length;
    while (j > 0 && vals[j - 1] < v) {
      ids[j] = ids[j - 1];
      vals[j] = vals[j - 1];
      j--;
    }
    ids[j] = i;
    vals[j] = v;
  }
  return ids;
}

/** log sum exp of a row, in float64. */
export function logSumExp(row: Float32Array): number {
  let mx = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > mx) mx = row[i];
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - mx);
  return mx + Math.log(s);
}

export class Engine {
  readonly gen: Generator;
  readonly chat: ChatFormat;
  /** The model's context (max_position_embeddings): prompt + max_tokens must fit in it. */
  readonly context: number;
  readonly vocab: number;
  readonly created = Math.floor(Date.now() / 1000);
  private readonly seeds: Rng;

  constructor(
    readonly loaded: LoadedModel,
    readonly o: EngineOptions,
  ) {
    const tok = loaded.tokenizer;
    this.chat = chatFormat(loaded.dir, tok, o.chatTemplate);
    this.context = loaded.model.config.max_position_embeddings;
    this.vocab = loaded.model.config.vocab_size;
    // The chat format's own end-of-turn id stops chat requests only (added per request), not completions.
    this.gen = new Generator(loaded.model, { batchSize: o.batchSize, eosIds: loaded.eosIds, tokenBytes: (id) => tok.tokenBytes(id), caps: o.caps });
    this.seeds = new Rng(o.seed);
  }

  get name(): string {
    return this.o.names[0];
  }

  /** A seed for a request that gives none: a server seeded by --seed hands out the same sequence of seeds. */
  nextSeed(): number {
    return this.seeds.nextU32();
  }

  /** Text prompt ids (special-token text stays text, as vLLM encodes prompts), with BOS when asked. */
  encode(text: string, bos: boolean): number[] {
    const ids = this.loaded.tokenizer.encode(text);
    return bos ? [this.loaded.tokenizer.bos, ...ids] : ids;
  }

  /** Token ids given by a client: every one must be in the model's vocabulary. */
  checkIds(ids: number[], param: string): number[] {
    const bad = ids.find((t) => t < 0 || t >= this.vocab);
    if (bad !== undefined) throw invalid(param, `token id ${bad} is outside the model's vocabulary (0..${this.vocab - 1})`);
    return ids;
  }

  /** Messages through the chat template; a template error (an unsupported role) is the request's fault. */
  renderChat(messages: ChatMessage[], addGenerationPrompt: boolean): number[] {
    let text: string;
    try {
      text = this.chat.text(messages, addGenerationPrompt);
    } catch (e) {
      throw invalid('messages', `the chat template (${this.chat.source}) refused the messages: ${(e as Error).message}`);
    }
    // The template writes its markers as text; they are the tokenizer's special tokens.
    return this.loaded.tokenizer.encode(text, { allowSpecial: true });
  }

  /** The bytes of a token (empty for an id the tokenizer lacks: a padding row of the embedding). */
  tokenBytes(id: number): Uint8Array {
    try {
      return this.loaded.tokenizer.tokenBytes(id);
    } catch {
      return new Uint8Array(0);
    }
  }

  /** A token as text; bytes that are not whole UTF-8 characters show as U+FFFD (the "bytes" field has them). */
  tokenText(id: number): string {
    return lenient.decode(this.tokenBytes(id));
  }

  /** Text of ids; an id outside the tokenizer is a 400. */
  detokenize(ids: number[]): string {
    try {
      return this.loaded.tokenizer.decode(ids);
    } catch (e) {
      throw invalid('tokens', (e as Error).message);
    }
  }

  /** The chosen token's log-prob, and the k most likely at its position, from the logits row it was drawn from. */
  tokenLogprob(logits: Float32Array, token: number, logprob: number, k: number): TokenLogprob {
    if (k <= 0) return { token, logprob, top: [] };
    const lse = logits[token] - logprob;
    return { token, logprob, top: topTokens(logits, k).map((id) => ({ token: id, logprob: logits[id] - lse })) };
  }

  /**
   * log p(ids[t] | ids[..t]) for t >= 1 with the k most likely alternatives (element 0 is null: nothing precedes
   * the first token), by the trainer's forward over the prompt; the head runs on a few rows at a time, so memory
   * is rows x vocabulary, not prompt x vocabulary.
   */
  promptLogprobs(ids: number[], k: number): (TokenLogprob | null)[] {
    const P = ids.length;
    if (P > this.context) throw new ApiError(400, `the prompt has ${P} tokens, more than the model's context of ${this.context}`, 'invalid_request_error', 'prompt', 'context_length_exceeded');
    const model = this.loaded.model;
    const out: (TokenLogprob | null)[] = [null];
    if (P < 2) return out;
    const h = tf.tidy(() => model.hidden(tf.tensor2d(Int32Array.from(ids), [1, P], 'int32')));
    try {
      const ROWS = 16;
      for (let r0 = 0; r0 < P - 1; r0 += ROWS) {
        const rows = Math.min(ROWS, P - 1 - r0);
        const t = tf.tidy(() => model.head(tf.slice(h, [r0, 0], [rows, -1])));
        const data = t.dataSync() as Float32Array;
        t.dispose();
        const V = data.length / rows;
        for (let r = 0; r < rows; r++) {
          const row = data.subarray(r * V, (r + 1) * V);
          const next = ids[r0 + r + 1];
          const lse = logSumExp(row);
          out.push({ token: next, logprob: row[next] - lse, top: k > 0 ? topTokens(row, k).map((id) => ({ token: id, logprob: row[id] - lse })) : [] });
        }
      }
    } finally {
      h.dispose();
    }
    return out;
  }

  dispose(): void {
    this.loaded.model.dispose();
    this.loaded.tokenizer.free();
  }
}
