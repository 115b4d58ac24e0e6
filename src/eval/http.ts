// A TextGenerator for any OpenAI-compatible server (vLLM, SGLang, llama.cpp server, Ollama, hosted APIs):
// /completions for base models, /chat/completions for chat models. Transient failures (429, 5xx,
// timeouts, dropped connections) are retried with exponential backoff (Retry-After honoured); a 400/413/422
// is a RejectedRequest (that one request is refused: the caller records its item as an error); anything
// else, or running out of retries, is an IoError (exit 74).
import { Agent, request } from 'undici';
import { IoError } from '../cli/errors.js';
import { RejectedRequest } from '../model/types.js';
import type { Completion, GenerateRequest, TextGenerator } from '../model/types.js';

export interface HttpOptions {
  /** Base URL, e.g. http://localhost:8000/v1 */
  api: string;
  model: string;
  apiKey?: string;
  chat: boolean;
  system?: string;
  concurrency: number;
  retries: number;
  /** First backoff delay in ms; doubles per attempt (with jitter), at most 60 s. */
  backoffMs: number;
  timeoutMs: number;
  /** Called before each retry (for a warning line). */
  onRetry?: (why: string, attempt: number, delayMs: number) => void;
}

const RETRY_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524]);
/** Answers about this one request (context length exceeded, a prompt too large): the item fails, the run goes on. */
const REJECT_STATUS = new Set([400, 413, 422]);

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Cut a completion at the first stop string (servers that ignore `stop` still get the right text). */
export function applyStops(text: string, stop: string[] | undefined): { text: string; stopped: boolean } {
  let cut = -1;
  for (const s of stop ?? []) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class HttpGenerator implements TextGenerator {
  readonly name: string;
  private readonly agent: Agent;
  private readonly sem: Semaphore;
  requests = 0;
  retried = 0;
  private closed = false;

  constructor(private readonly o: HttpOptions) {
    this.name = o.model;
    this.agent = new Agent({ connections: o.concurrency, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs });
    this.sem = new Semaphore(o.concurrency);
  }

  private url(): string {
    const base = this.o.api.replace(/\/+$/, '');
    return `${base}/${this.o.chat ? 'chat/completions' : 'completions'}`;
  }

  private body(req: GenerateRequest): Record<string, unknown> {
    const b: Record<string, unknown> = {
      model: this.o.model,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      n: req.n,
    };
    if (req.topP !== undefined) b.top_p = req.topP;
    if (req.stop?.length) b.stop = req.stop.slice(0, 4); // the OpenAI API accepts at most 4
    if (req.seed !== undefined) b.seed = req.seed;
    if (this.o.chat) {
      b.messages = [...(this.o.system ? [{ role: 'system', content: this.o.system }] : []), { role: 'user', content: req.prompt }];
    } else b.prompt = req.prompt;
    return b;
  }

  private parse(json: unknown, req: GenerateRequest): Completion[] {
    const choices = (json as { choices?: unknown[] })?.choices;
    if (!Array.isArray(choices)) throw new IoError(`${this.url()}: response has no choices`);
    const sorted = [...choices].sort((a, b) => ((a as { index?: number }).index ?? 0) - ((b as { index?: number }).index ?? 0));
    return sorted.map((c) => {
      const ch = c as { text?: string; message?: { content?: string }; finish_reason?: string };
      const raw = this.o.chat ? (ch.message?.content ?? '') : (ch.text ?? '');
      const { text, stopped } = applyStops(raw, req.stop);
      return { text, finishReason: ch.finish_reason === 'length' && !stopped ? 'length' : 'stop' };
    });
  }

  private async once(req: GenerateRequest): Promise<Completion[]> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.o.apiKey) headers.authorization = `Bearer ${this.o.apiKey}`;
    let attempt = 0;
    for (;;) {
      let why: string;
      let retryAfterMs = 0;
      try {
        this.requests++;
        const res = await request(this.url(), { method: 'POST', headers, body: JSON.stringify(this.body(req)), dispatcher: this.agent });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            throw new IoError(`${this.url()}: response is not JSON: ${text.slice(0, 200)}`);
          }
          return this.parse(json, req);
        }
        why = `HTTP ${res.statusCode}`;
        if (REJECT_STATUS.has(res.statusCode)) throw new RejectedRequest(`${this.url()}: ${why}: ${text.slice(0, 300)}`);
        if (!RETRY_STATUS.has(res.statusCode)) throw new IoError(`${this.url()}: ${why}: ${text.slice(0, 300)}`);
        const ra = res.headers['retry-after'];
        const secs = Number(Array.isArray(ra) ? ra[0] : ra);
        if (Number.isFinite(secs) && secs > 0) retryAfterMs = Math.min(secs * 1000, 120_000);
      } catch (e) {
        if (e instanceof IoError) throw e;
        why = (e as Error).message || String(e);
      }
      // After close (another request failed for good) the remaining ones stop quietly.
      if (this.closed) throw new IoError(`${this.url()}: generator closed`);
      if (attempt >= this.o.retries) throw new IoError(`${this.url()}: ${why} (gave up after ${attempt + 1} attempts)`);
      const delay = Math.max(retryAfterMs, Math.min(60_000, this.o.backoffMs * 2 ** attempt * (0.75 + 0.5 * Math.random())));
      attempt++;
      this.retried++;
      this.o.onRetry?.(why, attempt, delay);
      await sleep(delay);
    }
  }

  async generate(req: GenerateRequest): Promise<Completion[]> {
    await this.sem.acquire();
    try {
      const out = await this.once(req);
      // Servers that ignore `n` (llama.cpp, Ollama) return one choice: ask again for the rest.
      while (out.length < req.n) {
        const seed = req.seed === undefined ? undefined : req.seed + out.length;
        out.push(...(await this.once({ ...req, n: req.n - out.length, seed })));
      }
      return out.slice(0, req.n);
    } finally {
      this.sem.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.agent.destroy();
  }
}
