// Text generation on the training core (the interface `sample` uses today and `eval --model`, `serve` and GRPO
// are meant to reuse): requests with their own sampling parameters go into one queue; a decoding batch of
// `batchSize` slots runs them with continuous batching (a finished sample's slot is refilled at once from the
// queue). Each prompt is prefilled once (the trainer's forward, so its keys and values are the trainer's) and its
// cache is shared by its n samples; each sample then decodes one token per step against its cache.
//
// Determinism: sample j of a request draws from its own RNG stream (seed, stream, j), and a sequence's logits
// depend only on its own tokens: attention and sampling run per sequence, and the batched products give every
// row the same bits whatever the other rows (measured for XNNPACK and the cpu backend; with OpenBLAS, whose
// kernels round a row differently by its place in a tile, products run in fixed-size groups padded to full
// size: see row-group.ts). So a seed gives the same tokens whatever --batch-size and whatever else is in the batch.
import { setMaxListeners } from 'node:events';
import * as tf from '@tensorflow/tfjs';
import { headDim } from '../train/config.js';
import type { BackendCapabilities } from '../train/backend.js';
import type { LlamaModel } from '../train/model.js';
import type { Rng } from '../util/rng.js';
import { BlasDecoder } from './blas-decode.js';
import { CachePool, PromptCache, Rope, Scratch, SequenceCache, attendRows, cachedAttention, type CacheShape } from './kv-cache.js';
import { measureRowGroup } from './row-group.js';
import { RowSampler, checkParams, sampleRng, type Choice, type SamplingParams } from './sampling.js';
import { StopWatch } from './stops.js';

export interface GenerationRequest {
  /** Prompt token ids: 1 to the model's context length. */
  prompt: number[];
  params: SamplingParams;
  /** The request's RNG stream: sample j draws from sampleRng(params.seed, stream, j). Default 0. */
  stream?: number;
}

export interface GeneratedSample {
  /** Sample index within its request, 0..n-1. */
  index: number;
  /** Generated text, cut before a stop string; a stop token's text is not included. */
  text: string;
  /** Every generated id, including a stop token and the tokens that spelled a stop string. */
  tokens: number[];
  /** log p(token) under the model (log-softmax of the raw logits), aligned with tokens. */
  logprobs: number[];
  /** log p(token) under the distribution sampled from (temperature, min-p, top-k, top-p); 0 when greedy. */
  samplingLogprobs: number[];
  finishReason: 'stop' | 'length';
  /** The stop string or stop token id that ended the sample; null when it ran out of tokens or context. */
  stopReason: string | number | null;
}

/** One sampled token, as it is decoded (SubmitOptions.onToken). */
export interface TokenEvent {
  /** Sample index within its request. */
  index: number;
  token: number;
  /** log p(token) under the model, as in GeneratedSample.logprobs. */
  logprob: number;
  /**
   * Text that became final with this token: the deltas of a sample add up to its GeneratedSample.text. Text that
   * could still turn out to start a stop string (the last longest-stop - 1 characters) is held back until it cannot.
   */
  delta: string;
  /** The logits row the token was drawn from (for top alternatives); valid only during the call. */
  logits: Float32Array;
  /** Set on the sample's last token, with stopReason as GeneratedSample has them. */
  finishReason?: 'stop' | 'length';
  stopReason?: string | number | null;
}

export interface SubmitOptions {
  /**
   * Called for every token of every sample of the request, in decoding order, before the promise resolves. An
   * exception from it cancels this request (rejected with that exception), not the batch.
   */
  onToken?: (e: TokenEvent) => void;
}

export interface GeneratorOptions {
  /** Sequences decoded together (slots). */
  batchSize: number;
  /** Ids that end a sample unless params.ignoreEos (the tokenizer's end of text, a chat end of turn). */
  eosIds?: number[];
  /** Token id -> bytes (tokenizer.tokenBytes); ids the tokenizer lacks (padding rows of the embedding) are empty. */
  tokenBytes: (id: number) => Uint8Array;
  /**
   * Rows per product call when decoding: 0 runs the whole batch in one call; G > 0 runs groups of exactly G rows
   * (the last padded), for BLAS libraries whose rounding depends on a row's place among the others. Default: 0,
   * or when the tfjs ops run the products on OpenBLAS the group measureRowGroup() finds (src/sample/row-group.ts).
   */
  productGroup?: number;
  /** Decode with direct kernel calls (blas-decode.ts) where they run: default true; false forces the tfjs ops. */
  directKernels?: boolean;
  /** The backend's capabilities (initBackend): with products on OpenBLAS the tfjs path measures its row group. */
  caps?: BackendCapabilities;
}

export interface GeneratorStats {
  prompts: number;
  promptTokens: number;
  generatedTokens: number;
  prefillSeconds: number;
  /** Seconds in decoding forwards (the model; not sampling). */
  decodeSeconds: number;
  decodeSteps: number;
  /** Seconds choosing tokens from logits (the sampler over every row of a step). */
  sampleSeconds: number;
}

interface Job {
  req: GenerationRequest;
  samples: GeneratedSample[];
  started: number;
  done: number;
  prompt?: { cache: PromptCache; logits: Float32Array };
  onToken?: (e: TokenEvent) => void;
  /** Characters of a sample's text held back while they may start a stop string (longest stop - 1). */
  holdBack: number;
  /** onToken threw: the request is being cancelled with this error. */
  failed?: { error: unknown };
  resolve(s: GeneratedSample[]): void;
  reject(e: unknown): void;
}

interface Seq {
  job: Job;
  index: number;
  rng: Rng;
  cache: SequenceCache;
  /** Logits to sample the next token from; null once sampled (the token waits in `next` to be fed). */
  logits: Float32Array | null;
  next: number;
  watch: StopWatch;
  tokens: number[];
  logprobs: number[];
  samplingLogprobs: number[];
  /** Characters of the text given to onToken so far. */
  emitted: number;
}

const EMPTY = new Uint8Array(0);

export class Generator {
  readonly stats: GeneratorStats = { prompts: 0, promptTokens: 0, generatedTokens: 0, prefillSeconds: 0, decodeSeconds: 0, decodeSteps: 0, sampleSeconds: 0 };
  private readonly queue: Job[] = [];
  private active: Seq[] = [];
  private running: Promise<void> | null = null;
  private readonly shape: CacheShape;
  private readonly rope: Rope;
  private readonly scratch = new Scratch();
  /** The own caches of finished samples, for the samples that take their slots. */
  private readonly pool: CachePool;
  private readonly sampler = new RowSampler();
  private readonly context: number;
  /** Rows per decoding product call (0: the whole batch); see GeneratorOptions.productGroup. */
  readonly rowGroup: number;
  private readonly blas: BlasDecoder | undefined;

  constructor(
    readonly model: LlamaModel,
    private readonly opts: GeneratorOptions,
  ) {
    const c = model.config;
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
    this.shape = { layers: c.num_hidden_layers, H: c.num_attention_heads, KV: c.num_key_value_heads, hd: headDim(c) };
    this.context = c.max_position_embeddings;
    this.rope = new Rope(this.context, this.shape.hd, c.rope_theta);
    // Own caches of a full batch, and as many prompt caches.
    this.pool = new CachePool(2 * opts.batchSize);
    this.blas = opts.directKernels === false ? undefined : BlasDecoder.for(model);
    // The direct decoder's products are batch-invariant by construction (native/decode.cc): no groups needed.
    this.rowGroup = opts.productGroup ?? (opts.caps?.blasProducts && !this.blas ? measureRowGroup(model) : 0);
  }

  /** Why this request cannot run, or undefined. */
  check(req: GenerationRequest): string | undefined {
    const P = req.prompt.length;
    if (P === 0) return 'the prompt is empty (no tokens)';
    if (P > this.context) return `the prompt has ${P} tokens, more than the model's context of ${this.context}`;
    const V = this.model.config.vocab_size;
    const bad = req.prompt.find((t) => !Number.isInteger(t) || t < 0 || t >= V);
    if (bad !== undefined) return `prompt token id ${bad} is outside the model's vocabulary (0..${V - 1})`;
    const problems = checkParams(req.params);
    return problems.length ? problems.join('; ') : undefined;
  }

  /**
   * Run one request; concurrent calls share the decoding batch. Resolves with its n samples in index order.
   * Aborting `signal` (a client that went away) drops the request at once, queued or running, and frees its
   * slots; the promise rejects with the signal's reason. `opts.onToken` sees each token as it is decoded (streaming).
   */
  submit(req: GenerationRequest, signal?: AbortSignal, opts: SubmitOptions = {}): Promise<GeneratedSample[]> {
    const why = this.check(req);
    if (why) return Promise.reject(new RangeError(why));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const holdBack = Math.max(0, ...req.params.stop.map((s) => s.length - 1));
      const job: Job = { req, samples: new Array(req.params.n), started: 0, done: 0, onToken: opts.onToken, holdBack, resolve, reject };
      if (signal) {
        const onAbort = () => this.cancel(job, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = (f: () => void) => {
          signal.removeEventListener('abort', onAbort);
          f();
        };
        job.resolve = (s) => settle(() => resolve(s));
        job.reject = (e) => settle(() => reject(e));
      }
      this.queue.push(job);
      this.kick();
    });
  }

  /** Drop a job from the queue and the batch, and reject it. */
  private cancel(job: Job, reason: unknown): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) this.queue.splice(q, 1);
    this.active = this.active.filter((s) => s.job !== job || this.release(s));
    job.prompt = undefined;
    job.reject(reason);
  }

  /**
   * Results in request order, each as soon as it and every earlier one are done. Requests are read ahead only
   * while fewer than 4 x batchSize samples are in flight, so memory stays bounded on any input.
   */
  async *generate<R extends GenerationRequest>(requests: AsyncIterable<R> | Iterable<R>): AsyncGenerator<{ request: R; samples: GeneratedSample[] }> {
    const it = Symbol.asyncIterator in requests ? requests[Symbol.asyncIterator]() : (requests as Iterable<R>)[Symbol.iterator]();
    const inflight: { request: R; result: Promise<GeneratedSample[]> }[] = [];
    // Stopping early (an error reading the input, a consumer that breaks off) cancels this call's requests
    // only: others sharing the generator go on.
    const abandon = new AbortController();
    // One listener per request in flight (at most 4 x batchSize + 1): not the leak Node warns of past 10.
    setMaxListeners(4 * this.opts.batchSize + 16, abandon.signal);
    let samples = 0;
    let ended = false;
    try {
      for (;;) {
        while (!ended && (samples < 4 * this.opts.batchSize || !inflight.length)) {
          const r = await it.next();
          if (r.done) ended = true;
          else {
            const result = this.submit(r.value, abandon.signal);
            // Awaited in order below; until then a failure must not count as unhandled.
            result.catch(() => {});
            inflight.push({ request: r.value, result });
            samples += r.value.params.n;
          }
        }
        const head = inflight.shift();
        if (!head) return;
        const done = await head.result;
        samples -= head.request.params.n;
        yield { request: head.request, samples: done };
      }
    } finally {
      if (inflight.length) abandon.abort(new Error('generation abandoned'));
    }
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.pump()
      .catch((e: unknown) => this.cancelAll(e))
      .finally(() => {
        this.running = null;
        if (this.queue.length) this.kick();
      });
  }

  private async pump(): Promise<void> {
    while (this.queue.length || this.active.length) {
      this.step();
      // Let new submissions, I/O, signals and a closed stdout through between steps (tfjs on wasm/cpu never
      // yields by itself).
      await new Promise((r) => setImmediate(r));
    }
  }

  private cancelAll(e: unknown): void {
    const jobs = new Set<Job>([...this.queue, ...this.active.map((s) => s.job)]);
    this.queue.length = 0;
    this.active = [];
    for (const j of jobs) j.reject(e);
  }

  /** Fill free slots and sample until the batch is full or nothing waits; then one decoding forward. */
  private step(): void {
    for (;;) {
      this.admit();
      const finished = this.sampleAll();
      if (!finished || !this.queue.length) break;
    }
    if (this.active.length) this.forward();
  }

  private admit(): void {
    while (this.active.length < this.opts.batchSize && this.queue.length) {
      const job = this.queue[0];
      job.prompt ??= this.prefill(job.req.prompt);
      const index = job.started++;
      const { params } = job.req;
      const P = job.req.prompt.length;
      job.prompt.cache.users++;
      this.active.push({
        job,
        index,
        rng: sampleRng(params.seed, job.req.stream ?? 0, index),
        // A sample feeds back at most max_tokens - 1 tokens (the last one sampled is never fed), within the context.
        cache: new SequenceCache(job.prompt.cache, Math.max(0, Math.min(params.maxTokens - 1, this.context - P)), this.pool),
        logits: job.prompt.logits,
        next: -1,
        watch: new StopWatch(params.stop),
        tokens: [],
        logprobs: [],
        samplingLogprobs: [],
        emitted: 0,
      });
      if (job.started === params.n) {
        this.queue.shift();
        // The samples hold the prompt cache from here; the job lets go of it.
        job.prompt = undefined;
      }
    }
  }

  /**
   * The forward over the prompt (batch 1, so it never depends on other prompts), filling its cache: the direct
   * kernels' (blas-decode.ts) where they run, else the trainer's tfjs forward.
   */
  private prefill(prompt: number[]): { cache: PromptCache; logits: Float32Array } {
    const t0 = performance.now();
    const P = prompt.length;
    const cache = new PromptCache(this.shape, P, this.pool);
    let logits: Float32Array;
    if (this.blas) {
      // Copied: the decoder reuses its buffer at the next prefill.
      logits = this.blas.prefill(Int32Array.from(prompt), this.rope, (layer, k, v) => cache.store(layer, k, v, this.rope)).slice();
    } else {
      const out = tf.tidy(() => {
        const h = this.model.hidden(tf.tensor2d(Int32Array.from(prompt), [1, P], 'int32'), cache.observer(this.rope));
        return this.model.head(tf.slice(h, [P - 1, 0], [1, -1]));
      });
      logits = out.dataSync() as Float32Array;
      out.dispose();
    }
    this.stats.prompts++;
    this.stats.promptTokens += P;
    this.stats.prefillSeconds += (performance.now() - t0) / 1000;
    return { cache, logits };
  }

  /** Sample a token for every sequence holding fresh logits; true when some sample finished (a slot is free). */
  private sampleAll(): boolean {
    const fresh = this.active.filter((s) => s.logits);
    const t0 = performance.now();
    const choices = this.sampler.chooseAll(
      fresh.map((s) => s.logits!),
      fresh.map((s) => s.job.req.params),
      fresh.map((s) => s.rng),
    );
    this.stats.sampleSeconds += (performance.now() - t0) / 1000;
    const done = new Set<Seq>();
    fresh.forEach((s, i) => {
      if (this.sampleOne(s, choices[i])) done.add(s);
    });
    if (done.size) this.active = this.active.filter((s) => !done.has(s));
    return done.size > 0;
  }

  /** Take s's next token c; true when the sample is finished (and delivered). */
  private sampleOne(s: Seq, c: Choice): boolean {
    const p = s.job.req.params;
    const logits = s.logits!;
    s.logits = null;
    s.tokens.push(c.token);
    s.logprobs.push(c.logprob);
    s.samplingLogprobs.push(c.samplingLogprob);
    this.stats.generatedTokens++;
    let end: [reason: 'stop' | 'length', stopReason: string | number | null, text: string] | undefined;
    if (p.stopTokenIds.includes(c.token) || (!p.ignoreEos && this.opts.eosIds?.includes(c.token))) end = ['stop', c.token, s.watch.finish()];
    else {
      const hit = s.watch.push(this.bytes(c.token));
      if (hit) end = ['stop', hit.stop, s.watch.text.slice(0, hit.at)];
      // No room to feed the token back: out of max_tokens, or the context is full.
      else if (s.tokens.length >= p.maxTokens || s.cache.length >= this.context) end = ['length', null, s.watch.finish()];
    }
    if (s.job.onToken) this.emit(s, c.token, c.logprob, logits, end);
    if (end) return this.finish(s, ...end);
    s.next = c.token;
    return false;
  }

  /** Tell the request's onToken about a token: the text now final (all of it once the sample ends). */
  private emit(s: Seq, token: number, logprob: number, logits: Float32Array, end: [reason: 'stop' | 'length', stopReason: string | number | null, text: string] | undefined): void {
    const job = s.job;
    const text = end ? end[2] : s.watch.text;
    let upto = end ? text.length : Math.max(s.emitted, text.length - job.holdBack);
    // Never split a surrogate pair between two deltas.
    if (!end && upto > s.emitted && upto < text.length && (text.charCodeAt(upto - 1) & 0xfc00) === 0xd800) upto--;
    const delta = text.slice(s.emitted, upto);
    s.emitted = upto;
    try {
      job.onToken!({ index: s.index, token, logprob, delta, logits, ...(end ? { finishReason: end[0], stopReason: end[1] } : {}) });
    } catch (e) {
      // Dropped after this step (the batch is being walked now), and rejected with the error, never resolved.
      if (!job.failed) {
        job.failed = { error: e };
        queueMicrotask(() => this.cancel(job, e));
      }
    }
  }

  private bytes(id: number): Uint8Array {
    try {
      return this.opts.tokenBytes(id);
    } catch {
      return EMPTY;
    }
  }

  /**
   * Give s's own cache back to the pool (s has left the batch), and its prompt's once no sample reads it and no
   * sample of the request is still to start (the job holds it until then); false, for filter().
   */
  private release(s: Seq): false {
    this.pool.give(s.cache.data);
    const prompt = s.cache.prompt;
    if (--prompt.users === 0 && s.job.prompt?.cache !== prompt) this.pool.give(prompt.data);
    return false;
  }

  private finish(s: Seq, reason: 'stop' | 'length', stopReason: string | number | null, text: string): true {
    const job = s.job;
    this.release(s);
    job.samples[s.index] = { index: s.index, text, tokens: s.tokens, logprobs: s.logprobs, samplingLogprobs: s.samplingLogprobs, finishReason: reason, stopReason };
    if (++job.done === job.req.params.n && !job.failed) job.resolve(job.samples);
    return true;
  }

  /** One token per active sequence through the model; each gets its next logits. */
  private forward(): void {
    const t0 = performance.now();
    const seqs = this.active;
    const V = this.model.config.vocab_size;
    const G = this.rowGroup;
    const groups: Seq[][] = [];
    if (G > 0) for (let i = 0; i < seqs.length; i += G) groups.push(seqs.slice(i, i + G));
    else groups.push(seqs);
    for (const group of groups) {
      const rows = G > 0 ? G : group.length;
      const ids = new Int32Array(rows);
      group.forEach((s, i) => (ids[i] = s.next));
      const caches = group.map((s) => s.cache);
      let data: Float32Array;
      if (this.blas) {
        // Not copied: the decoder overwrites its logits buffer at the next step, and every row is sampled (and
        // shown to onToken) before that. (The direct decoder runs the batch as one group: see rowGroup.)
        data = this.blas.step(ids, (layer, q, k, v, ctx) => attendRows(caches, layer, this.rope, this.scratch, q, k, v, ctx)).subarray(0, group.length * V);
      } else {
        const attend = cachedAttention(caches, this.rope, this.scratch, rows, (d, shape) => tf.tensor2d(d, shape));
        const out = tf.tidy(() => this.model.decode(tf.tensor1d(ids, 'int32'), attend));
        data = out.dataSync() as Float32Array;
        out.dispose();
      }
      group.forEach((s, i) => {
        s.cache.commit();
        s.logits = data.subarray(i * V, (i + 1) * V);
      });
    }
    this.stats.decodeSteps++;
    this.stats.decodeSeconds += (performance.now() - t0) / 1000;
  }
}
