// The HTTP side of `mathpipe serve`: an OpenAI-compatible API (the subset vLLM serves) on Node's http module.
//
//   POST /v1/completions, /v1/chat/completions   generation; "stream": true answers with server-sent events
//   GET  /v1/models, /v1/models/NAME              the served model
//   POST /tokenize, /detokenize                   vLLM's tokenizer endpoints
//   GET  /health, /version, /metrics              liveness, version, Prometheus text
//
// Every generation request is submitted to the engine's one Generator, so concurrent requests decode in one
// batch. A client that goes away (its connection closes before the answer is complete) aborts its request,
// which frees its slots at once. Errors are OpenAI's JSON body {"error": {message, type, param, code}}.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GeneratedSample, TokenEvent } from '../sample/generator.js';
import type { SamplingParams } from '../sample/sampling.js';
import { ApiError, ShutdownError, invalid } from './errors.js';
import type { Engine, TokenLogprob } from './engine.js';
import { ServerMetrics } from './metrics.js';
import { chatParams, completionParams, type Body, type ChatParams, type CommonParams, type CompletionParams } from './params.js';

export interface ServerOptions {
  /** Bearer token that /v1/* and /tokenize, /detokenize require; none: no authentication. */
  apiKey?: string;
  /** Request bodies larger than this are a 413. */
  maxBodyBytes: number;
  /** Server version for /version. */
  version: string;
  /** One record per answered request (the --log FILE lines). */
  onLog?: (entry: Record<string, unknown>) => void;
  /** An unexpected failure (a bug, not a bad request): reported, answered 500. */
  onError?: (e: unknown) => void;
}

/** Why a request's generation was cancelled: its client went away. */
class ClientGone extends Error {
  constructor() {
    super('the client closed the connection');
  }
}

/** What a handler tells the log about its request. */
interface Ctx {
  promptTokens?: number;
  completionTokens?: number;
  cancelled?: string;
}

const ROUTES: Record<string, { methods: string[]; auth: boolean }> = {
  '/health': { methods: ['GET'], auth: false },
  '/version': { methods: ['GET'], auth: false },
  '/metrics': { methods: ['GET'], auth: false },
  '/v1/models': { methods: ['GET'], auth: true },
  '/v1/completions': { methods: ['POST'], auth: true },
  '/v1/chat/completions': { methods: ['POST'], auth: true },
  '/tokenize': { methods: ['POST'], auth: true },
  '/detokenize': { methods: ['POST'], auth: true },
};

/** Log-probs as JSON numbers: 8 significant digits (float32 logits carry about 7); -Infinity as vLLM's -9999. */
const lp = (x: number) => (x > -9999 ? Number(x.toPrecision(8)) : -9999);

const sha = (s: string) => createHash('sha256').update(s).digest();

/** Server-sent events on a response: "data: JSON" per event, "data: [DONE]" at the end. */
class Sse {
  constructor(private readonly res: ServerResponse) {
    // Set (not passed to writeHead) so that fail() can tell a stream by its content type.
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no');
    res.writeHead(200);
    res.flushHeaders();
  }
  send(data: unknown): void {
    if (!this.res.destroyed) this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }
  done(): void {
    if (!this.res.destroyed) this.res.end('data: [DONE]\n\n');
  }
}

/** The offset in the text of each token (length of the decoded text before it), for the completions logprobs. */
class Offsets {
  private readonly decoder = new TextDecoder('utf-8');
  private length = 0;
  next(bytes: Uint8Array): number {
    const at = this.length;
    this.length += this.decoder.decode(bytes, { stream: true }).length;
    return at;
  }
}

/** The "logprobs" object of a /v1/completions choice (OpenAI's legacy layout, as vLLM fills it). */
interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

interface ChatLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export class ApiServer {
  readonly server: Server;
  readonly metrics: ServerMetrics;
  private draining = false;
  /** Handlers running, and the controllers that cancel their generation. */
  private readonly handlers = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private readonly keyHash: Buffer | undefined;

  constructor(
    readonly engine: Engine,
    private readonly o: ServerOptions,
  ) {
    this.keyHash = o.apiKey ? sha(o.apiKey) : undefined;
    const s = engine.gen.stats;
    this.metrics = new ServerMetrics([
      { name: 'mathpipe_prefill_seconds_total', help: 'Seconds spent prefilling prompts', read: () => s.prefillSeconds, type: 'counter' },
      { name: 'mathpipe_decode_seconds_total', help: 'Seconds spent in decoding steps', read: () => s.decodeSeconds, type: 'counter' },
      { name: 'mathpipe_decode_steps_total', help: 'Decoding steps (one token for every sequence in the batch)', read: () => s.decodeSteps, type: 'counter' },
      { name: 'mathpipe_batch_size', help: 'Decoding slots (--batch-size)', read: () => engine.o.batchSize },
    ]);
    this.server = createServer((req, res) => this.track(req, res));
    // A client that asks before sending a body (Expect: 100-continue) hears of an oversized one before sending it.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers['content-length']) > this.o.maxBodyBytes) this.track(req, res);
      else {
        res.writeContinue();
        this.track(req, res);
      }
    });
  }

  /** Listen; resolves with the address (port 0: the one the system chose). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Requests being answered now. */
  get inflight(): number {
    return this.handlers.size;
  }

  /**
   * Stop accepting (new connections are refused, requests on open connections answered 503), let requests in
   * flight finish for up to graceMs, then cancel what is left (a 503, or an error event on a stream) and close
   * every connection. Resolves with how many requests were cancelled.
   */
  async shutdown(graceMs: number): Promise<{ cancelled: number }> {
    this.draining = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    const all = Promise.allSettled([...this.handlers]);
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    let cancelled = 0;
    if (!inTime) {
      for (const ac of this.controllers) {
        ac.abort(new ShutdownError());
        cancelled++;
      }
      // Streams end with an error event, requests get their 503; a few seconds for those to reach their clients.
      await Promise.race([all, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    this.server.closeAllConnections();
    await closed;
    return { cancelled };
  }

  /** Run a request's handler; it counts as in flight until its response is flushed (or its connection gone). */
  private track(req: IncomingMessage, res: ServerResponse): void {
    const flushed = new Promise<void>((r) => {
      res.once('finish', r);
      res.once('close', r);
    });
    const p = this.handle(req, res)
      .catch((e: unknown) => this.o.onError?.(e))
      .then(() => flushed);
    this.handlers.add(p);
    void p.finally(() => this.handlers.delete(p));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    } catch {
      // Not a URL: answered 404 below.
    }
    const route = ROUTES[path] ?? (path.startsWith('/v1/models/') ? { methods: ['GET'], auth: true } : undefined);
    const label = ROUTES[path] ? path : route ? '/v1/models/{model}' : 'other';
    const ctx: Ctx = {};
    res.on('finish', () => this.answered(req, res, label, t0, ctx));
    res.on('close', () => {
      if (!res.writableFinished) this.answered(req, res, label, t0, { ...ctx, cancelled: ctx.cancelled ?? 'client' });
    });
    try {
      if (this.draining) {
        res.setHeader('connection', 'close');
        throw new ApiError(503, 'the server is shutting down', 'server_error', null, 'shutting_down');
      }
      if (!route) throw new ApiError(404, `no such endpoint: ${req.method} ${path}`, 'invalid_request_error', null, 'not_found');
      if (!route.methods.includes(method)) {
        res.setHeader('allow', route.methods.join(', '));
        throw new ApiError(405, `${req.method} is not allowed on ${path} (use ${route.methods.join(' or ')})`, 'invalid_request_error', null, 'method_not_allowed');
      }
      if (route.auth) this.authorize(req);
      if (method === 'GET') return this.get(res, path);
      const body = await this.readBody(req, res);
      if (path === '/v1/completions') await this.completions(res, completionParams(body), ctx);
      else if (path === '/v1/chat/completions') await this.chatCompletions(res, chatParams(body), ctx);
      else if (path === '/tokenize') this.json(res, 200, this.tokenize(body));
      else this.json(res, 200, this.detokenize(body));
    } catch (e) {
      this.fail(res, e);
    }
  }

  private answered(req: IncomingMessage, res: ServerResponse, label: string, t0: number, ctx: Ctx): void {
    const code = ctx.cancelled === 'client' ? 'cancelled' : String(res.statusCode);
    this.metrics.requests.inc({ endpoint: label, code });
    this.o.onLog?.({
      time: new Date().toISOString(),
      method: req.method,
      path: req.url,
      status: res.statusCode,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(4)),
      ...(ctx.promptTokens !== undefined ? { prompt_tokens: ctx.promptTokens } : {}),
      ...(ctx.completionTokens !== undefined ? { completion_tokens: ctx.completionTokens } : {}),
      ...(ctx.cancelled ? { cancelled: ctx.cancelled } : {}),
    });
  }

  private authorize(req: IncomingMessage): void {
    if (!this.keyHash) return;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (m && timingSafeEqual(sha(m[1].trim()), this.keyHash)) return;
    throw new ApiError(401, m ? 'Incorrect API key provided' : 'Missing API key: send it as "Authorization: Bearer KEY"', 'invalid_request_error', null, 'invalid_api_key');
  }

  /** The JSON body, at most maxBodyBytes (413 beyond, before reading it when Content-Length says so). */
  private readBody(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const limit = this.o.maxBodyBytes;
    const tooLarge = () => {
      res.setHeader('connection', 'close');
      return new ApiError(413, `the request body is larger than the server's limit of ${limit} bytes (--max-request-size)`, 'invalid_request_error', null, 'request_too_large');
    };
    if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > limit) {
          over = true;
          chunks.length = 0;
          reject(tooLarge());
        } else chunks.push(c);
      });
      req.on('end', () => {
        if (over) return;
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(invalid(null, text.trim() ? `the request body is not valid JSON: ${(e as Error).message}` : 'the request body is empty: send a JSON object', 'invalid_json'));
        }
      });
      req.on('error', reject);
      req.on('close', () => {
        if (!req.complete) reject(new ClientGone());
      });
    });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    if (res.destroyed) return;
    if (this.draining) res.setHeader('connection', 'close');
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof ClientGone) return;
    let err: ApiError;
    if (e instanceof ApiError) err = e;
    else {
      this.o.onError?.(e);
      err = new ApiError(500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (res.destroyed) return;
    if (!res.headersSent) {
      if (err.status === 401) res.setHeader('www-authenticate', 'Bearer');
      this.json(res, err.status, err.body());
    } else if (res.getHeader('content-type')?.toString().startsWith('text/event-stream')) {
      // Mid-stream: vLLM's way, an error event then the end.
      res.write(`data: ${JSON.stringify(err.body())}\n\n`);
      res.end('data: [DONE]\n\n');
    } else res.destroy();
  }

  private get(res: ServerResponse, path: string): void {
    const e = this.engine;
    const model = (id: string) => ({ id, object: 'model', created: e.created, owned_by: 'mathpipe', root: e.loaded.identity.path, parent: null, max_model_len: e.context, permission: [] });
    if (path === '/health') {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    } else if (path === '/version') this.json(res, 200, { version: this.o.version });
    else if (path === '/metrics') {
      const text = this.metrics.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else if (path === '/v1/models') this.json(res, 200, { object: 'list', data: e.o.names.map(model) });
    else {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (!e.o.names.includes(id)) throw this.noModel(id);
      this.json(res, 200, model(id));
    }
  }

  private noModel(name: string): ApiError {
    return new ApiError(404, `The model \`${name}\` does not exist (this server serves ${this.engine.o.names.map((n) => `\`${n}\``).join(', ')})`, 'invalid_request_error', 'model', 'model_not_found');
  }

  private checkModel(name: string | undefined): string {
    if (name !== undefined && !this.engine.o.names.includes(name)) throw this.noModel(name);
    return name ?? this.engine.name;
  }

  /** prompt + max_tokens must fit the context: a 400 naming both numbers (vLLM's and OpenAI's message). */
  private checkContext(P: number, maxTokens: number, param: string): void {
    const C = this.engine.context;
    if (P + maxTokens <= C) return;
    const where = param === 'messages' ? 'messages' : 'prompt';
    throw new ApiError(
      400,
      `This model's maximum context length is ${C} tokens. However, you requested ${P + maxTokens} tokens (${P} in the ${where}, ${maxTokens} for the completion). Please reduce the length of the ${where} or max_tokens.`,
      'invalid_request_error',
      param,
      'context_length_exceeded',
    );
  }

  private samplingParams(p: CommonParams, maxTokens: number, extraStops: number[]): SamplingParams {
    for (const t of p.stopTokenIds) if (t >= this.engine.vocab) throw invalid('stop_token_ids', `stop token id ${t} is outside the model's vocabulary (0..${this.engine.vocab - 1})`);
    return {
      temperature: p.temperature,
      topP: p.topP,
      topK: p.topK,
      minP: p.minP,
      maxTokens,
      stop: p.stop,
      stopTokenIds: [...new Set([...p.stopTokenIds, ...extraStops])],
      ignoreEos: p.ignoreEos,
      n: p.n,
      seed: p.seed ?? this.engine.nextSeed(),
    };
  }

  /** vLLM's stop_reason: the stop string or a stop token id the request asked for; null for end-of-text and length. */
  private stopReason(p: CommonParams, reason: string | number | null | undefined): string | number | null {
    if (typeof reason === 'number') return p.stopTokenIds.includes(reason) ? reason : null;
    return reason ?? null;
  }

  /** The stop string, appended when include_stop_str_in_output asks for it. */
  private stopText(p: CommonParams, reason: string | number | null | undefined): string {
    return p.includeStopStr && typeof reason === 'string' ? reason : '';
  }

  /**
   * Submit one request per prompt (stream = the prompt's index, so a seed gives each prompt its own samples), all
   * cancelled together by `signal` or by the failure of one; the engine's tokens go to onToken as they come.
   */
  private async generate(prompts: number[][], params: SamplingParams, signal: AbortSignal, ctx: Ctx, onToken: (prompt: number, e: TokenEvent) => void): Promise<GeneratedSample[][]> {
    const m = this.metrics;
    const t0 = performance.now();
    let first = true;
    const group = new AbortController();
    const stop = () => group.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    ctx.promptTokens = prompts.reduce((a, ids) => a + ids.length, 0);
    ctx.completionTokens = 0;
    m.promptTokens.inc({}, ctx.promptTokens);
    const results = prompts.map((ids, i) => {
      let started = false;
      m.waiting++;
      return this.engine.gen
        .submit({ prompt: ids, params, stream: i }, group.signal, {
          onToken: (e) => {
            if (!started) {
              started = true;
              m.waiting--;
              m.running++;
            }
            if (first) {
              first = false;
              m.firstToken.observe((performance.now() - t0) / 1000);
            }
            m.generationTokens.inc();
            ctx.completionTokens!++;
            onToken(i, e);
          },
        })
        .finally(() => {
          if (started) m.running--;
          else m.waiting--;
        });
    });
    try {
      const out = await Promise.all(results);
      m.latency.observe((performance.now() - t0) / 1000);
      for (const samples of out) for (const s of samples) m.finished.inc({ finished_reason: s.finishReason });
      return out;
    } catch (e) {
      group.abort(e);
      const why = e instanceof ShutdownError ? 'shutdown' : e instanceof ClientGone ? 'client' : undefined;
      if (why) {
        ctx.cancelled = why;
        m.cancelled.inc({ reason: why });
      }
      // The generator's own refusal of a request (it checks what we checked; kept as a safety net) is a 400.
      throw e instanceof RangeError ? invalid(null, e.message) : e;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  /** A controller that the client's going away and the server's shutdown abort. */
  private controller(res: ServerResponse): { ac: AbortController; release: () => void } {
    const ac = new AbortController();
    const gone = () => {
      if (!res.writableFinished) ac.abort(new ClientGone());
    };
    res.on('close', gone);
    this.controllers.add(ac);
    return {
      ac,
      release: () => {
        res.off('close', gone);
        this.controllers.delete(ac);
      },
    };
  }

  private completionLogprobs(): CompletionLogprobs {
    return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  }

  /** Add one token (null log-prob for a prompt's first token) to a completions logprobs object. */
  private addCompletionLogprob(out: CompletionLogprobs, token: number, entry: TokenLogprob | null, offsets: Offsets): void {
    const e = this.engine;
    const bytes = e.tokenBytes(token);
    out.tokens.push(e.tokenText(token));
    out.text_offset.push(offsets.next(bytes));
    if (!entry) {
      out.token_logprobs.push(null);
      out.top_logprobs.push(null);
      return;
    }
    out.token_logprobs.push(lp(entry.logprob));
    const top: Record<string, number> = {};
    for (const t of entry.top) {
      const k = e.tokenText(t.token);
      if (!(k in top)) top[k] = lp(t.logprob);
    }
    const chosen = e.tokenText(token);
    if (!(chosen in top)) top[chosen] = lp(entry.logprob);
    out.top_logprobs.push(top);
  }

  private chatLogprob(entry: TokenLogprob): ChatLogprob {
    const e = this.engine;
    const one = (token: number, logprob: number) => ({ token: e.tokenText(token), logprob: lp(logprob), bytes: [...e.tokenBytes(token)] });
    return { ...one(entry.token, entry.logprob), top_logprobs: entry.top.map((t) => one(t.token, t.logprob)) };
  }

  private usage(ctx: Ctx): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
    const p = ctx.promptTokens ?? 0;
    const c = ctx.completionTokens ?? 0;
    return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
  }

  private async completions(res: ServerResponse, p: CompletionParams, ctx: Ctx): Promise<void> {
    const e = this.engine;
    const model = this.checkModel(p.model);
    const bos = p.addSpecialTokens ?? e.o.bos;
    const prompts = p.prompts.map((x) => (typeof x === 'string' ? e.encode(x, bos) : e.checkIds(x, 'prompt')));
    const maxTokens = p.maxTokens!;
    for (const ids of prompts) {
      if (!ids.length) throw invalid('prompt', 'the prompt is empty (no tokens): give some text or token ids');
      this.checkContext(ids.length, maxTokens, 'prompt');
    }
    const params = this.samplingParams(p, maxTokens, []);
    const k = p.logprobs ?? 0;
    const want = p.logprobs !== null;
    // Echo: the prompt's text (and its tokens' log-probs, by a forward over the prompt) before the completion.
    const echoText = prompts.map((ids) => (p.echo ? e.detokenize(ids) : ''));
    const echoLogprobs = prompts.map((ids) => (p.echo && want ? e.promptLogprobs(ids, k) : []));
    const n = p.n;
    const choices = prompts.length * n;
    const logprobs: CompletionLogprobs[] = [];
    const offsets: Offsets[] = [];
    const start = (c: number) => {
      const i = Math.floor(c / n);
      logprobs[c] = this.completionLogprobs();
      offsets[c] = new Offsets();
      if (p.echo && want) prompts[i].forEach((t, j) => this.addCompletionLogprob(logprobs[c], t, echoLogprobs[i][j], offsets[c]));
    };
    if (want) for (let c = 0; c < choices; c++) start(c);
    const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: 'text_completion', created, model };
    const { ac, release } = this.controller(res);
    try {
      if (!p.stream) {
        const out = await this.generate(prompts, params, ac.signal, ctx, (i, ev) => {
          if (want) this.addCompletionLogprob(logprobs[i * n + ev.index], ev.token, e.tokenLogprob(ev.logits, ev.token, ev.logprob, k), offsets[i * n + ev.index]);
        });
        this.json(res, 200, {
          ...head,
          choices: out.flatMap((samples, i) =>
            samples.map((s) => ({
              index: i * n + s.index,
              text: echoText[i] + s.text + this.stopText(p, s.stopReason),
              logprobs: want ? logprobs[i * n + s.index] : null,
              finish_reason: s.finishReason,
              stop_reason: this.stopReason(p, s.stopReason),
            })),
          ),
          usage: this.usage(ctx),
        });
        return;
      }
      const sse = new Sse(res);
      if (p.echo)
        for (let c = 0; c < choices; c++) {
          sse.send({ ...head, choices: [{ index: c, text: echoText[Math.floor(c / n)], logprobs: want ? logprobs[c] : null, finish_reason: null, stop_reason: null }] });
          if (want) logprobs[c] = this.completionLogprobs();
        }
      await this.generate(prompts, params, ac.signal, ctx, (i, ev) => {
        const c = i * n + ev.index;
        if (want) this.addCompletionLogprob(logprobs[c], ev.token, e.tokenLogprob(ev.logits, ev.token, ev.logprob, k), offsets[c]);
        const text = ev.delta + (ev.finishReason ? this.stopText(p, ev.stopReason) : '');
        if (!text && !ev.finishReason) return;
        sse.send({
          ...head,
          choices: [{ index: c, text, logprobs: want ? logprobs[c] : null, finish_reason: ev.finishReason ?? null, stop_reason: ev.finishReason ? this.stopReason(p, ev.stopReason) : null }],
        });
        // The next chunk reports the tokens after these (offsets go on counting from the start of the text).
        if (want) logprobs[c] = this.completionLogprobs();
      });
      if (p.includeUsage) sse.send({ ...head, choices: [], usage: this.usage(ctx) });
      sse.done();
    } finally {
      release();
    }
  }

  private async chatCompletions(res: ServerResponse, p: ChatParams, ctx: Ctx): Promise<void> {
    const e = this.engine;
    const model = this.checkModel(p.model);
    const ids = e.renderChat(p.messages, p.addGenerationPrompt);
    if (!ids.length) throw invalid('messages', 'the chat template rendered the messages as no tokens');
    const maxTokens = p.maxTokens ?? Math.max(1, e.context - ids.length);
    this.checkContext(ids.length, maxTokens, 'messages');
    const params = this.samplingParams(p, maxTokens, e.chat.stopIds);
    const k = p.logprobs ?? 0;
    const want = p.logprobs !== null;
    const logprobs: ChatLogprob[][] = Array.from({ length: p.n }, () => []);
    const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: 'chat.completion', created, model };
    const { ac, release } = this.controller(res);
    try {
      if (!p.stream) {
        const [out] = await this.generate([ids], params, ac.signal, ctx, (_, ev) => {
          if (want) logprobs[ev.index].push(this.chatLogprob(e.tokenLogprob(ev.logits, ev.token, ev.logprob, k)));
        });
        this.json(res, 200, {
          ...head,
          choices: out.map((s) => ({
            index: s.index,
            message: { role: 'assistant', content: s.text + this.stopText(p, s.stopReason), tool_calls: [] },
            logprobs: want ? { content: logprobs[s.index], refusal: null } : null,
            finish_reason: s.finishReason,
            stop_reason: this.stopReason(p, s.stopReason),
          })),
          usage: this.usage(ctx),
        });
        return;
      }
      const sse = new Sse(res);
      const chunk = { ...head, object: 'chat.completion.chunk' };
      for (let c = 0; c < p.n; c++) sse.send({ ...chunk, choices: [{ index: c, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      await this.generate([ids], params, ac.signal, ctx, (_, ev) => {
        if (want) logprobs[ev.index].push(this.chatLogprob(e.tokenLogprob(ev.logits, ev.token, ev.logprob, k)));
        const text = ev.delta + (ev.finishReason ? this.stopText(p, ev.stopReason) : '');
        if (!text && !ev.finishReason) return;
        sse.send({
          ...chunk,
          choices: [
            {
              index: ev.index,
              delta: text ? { content: text } : {},
              logprobs: want ? { content: logprobs[ev.index], refusal: null } : null,
              finish_reason: ev.finishReason ?? null,
              ...(ev.finishReason ? { stop_reason: this.stopReason(p, ev.stopReason) } : {}),
            },
          ],
        });
        if (want) logprobs[ev.index] = [];
      });
      if (p.includeUsage) sse.send({ ...chunk, choices: [], usage: this.usage(ctx) });
      sse.done();
    } finally {
      release();
    }
  }

  /** vLLM's /tokenize: {prompt} or {messages}; add_special_tokens (BOS for a prompt), add_generation_prompt. */
  private tokenize(body: unknown): Record<string, unknown> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(null, 'the request body must be a JSON object');
    const b = body as Body;
    this.checkModel(typeof b.model === 'string' ? b.model : undefined);
    const flag = (k: string, def: boolean) => {
      if (b[k] === undefined || b[k] === null) return def;
      if (typeof b[k] !== 'boolean') throw invalid(k, `"${k}" must be true or false`);
      return b[k] as boolean;
    };
    let tokens: number[];
    if (b.messages !== undefined) {
      const m = chatParams({ messages: b.messages }).messages;
      tokens = this.engine.renderChat(m, flag('add_generation_prompt', true));
    } else if (typeof b.prompt === 'string') tokens = this.engine.encode(b.prompt, flag('add_special_tokens', this.engine.o.bos));
    else throw invalid('prompt', 'give "prompt" (a string) or "messages"');
    return {
      count: tokens.length,
      max_model_len: this.engine.context,
      tokens,
      token_strs: flag('return_token_strs', false) ? tokens.map((t) => this.engine.tokenText(t)) : null,
    };
  }

  /** vLLM's /detokenize: {tokens} -> {prompt}. */
  private detokenize(body: unknown): Record<string, unknown> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Body;
    this.checkModel(typeof b.model === 'string' ? b.model : undefined);
    const t = b.tokens;
    if (!Array.isArray(t) || !t.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) throw invalid('tokens', '"tokens" must be an array of token ids');
    return { prompt: this.engine.detokenize(this.engine.checkIds(t as number[], 'tokens')) };
  }
}
