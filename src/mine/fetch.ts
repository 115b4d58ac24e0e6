// HTTP byte sources with undici: keep-alive connections shared across inputs, a connection limit,
// and retries with exponential backoff and jitter on 5xx, 429 (honouring Retry-After), timeouts and resets.
// A body that breaks off mid-stream is resumed with a Range request from the byte where it stopped, so the
// consumer sees one uninterrupted byte stream (or, when every retry fails, an IoError: exit 74).
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { IoError } from '../cli/errors.js';
import { warn } from '../cli/log.js';

export interface RetryPolicy {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** Per-request headers and idle-body timeout. */
  timeoutMs: number;
}

export interface ByteRange {
  offset: number;
  /** undefined: to the end. */
  length?: number;
}

let agent: Dispatcher | undefined;
let agentKey = '';

export function httpAgent(connections: number, timeoutMs: number): Dispatcher {
  const key = `${connections}/${timeoutMs}`;
  if (!agent || agentKey !== key) {
    // Settings changed (the job count is known only after a paths list was read): retire the old pool.
    void agent?.close();
    agent = new Agent({
      connections,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
    }).compose(interceptors.redirect({ maxRedirections: 5 }));
    agentKey = key;
  }
  return agent;
}

export async function closeAgent(): Promise<void> {
  const a = agent;
  agent = undefined;
  if (a) await a.close();
}

const RETRY_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_ABORTED',
]);

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
    url: string,
  ) {
    super(`HTTP ${status} for ${url}`);
  }
}

function retryable(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status === 429 || e.status === 408 || e.status >= 500;
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  return code !== undefined && RETRY_CODES.has(code);
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ? `${err.message ?? ''} (${err.code})` : String(err.message ?? e);
}

/** Retry-After: seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries from many workers spread out. */
export function backoffMs(attempt: number, p: RetryPolicy, rand = Math.random): number {
  const exp = Math.min(p.maxMs, p.baseMs * 2 ** attempt);
  return exp / 2 + rand() * (exp / 2);
}

/** A server asking for a longer pause than this is treated as if it asked for this long. */
const MAX_RETRY_AFTER = 600_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rangeHeader(from: number, r: ByteRange | undefined): string | undefined {
  if (from === 0 && !r) return undefined;
  const end = r?.length !== undefined ? `${r.offset + r.length - 1}` : '';
  return `bytes=${from}-${end}`;
}

/**
 * Stream the bytes of `url` (or of `range` within it). Retries transparently; resumes broken bodies.
 */
export async function* httpBytes(url: string, policy: RetryPolicy, dispatcher: Dispatcher, range?: ByteRange): AsyncGenerator<Buffer> {
  const start = range?.offset ?? 0;
  const total = range?.length;
  let got = 0;
  let attempt = 0;
  for (;;) {
    if (total !== undefined && got >= total) return;
    try {
      const from = start + got;
      const hdr = rangeHeader(from, range ?? (got ? { offset: from } : undefined));
      const res = await request(url, { dispatcher, method: 'GET', headers: hdr ? { range: hdr } : {} });
      if (res.statusCode >= 400) {
        const ra = parseRetryAfter(res.headers['retry-after']);
        await res.body.dump();
        throw new HttpStatusError(res.statusCode, ra, url);
      }
      // A server that ignores Range sends the whole file: skip to where we are.
      let skip = hdr && res.statusCode === 200 ? from : 0;
      if (hdr && res.statusCode === 206) {
        const cr = /bytes\s+(\d+)-/.exec(String(res.headers['content-range'] ?? ''));
        if (cr && Number(cr[1]) !== from) {
          await res.body.dump();
          throw new IoError(`${url}: server answered a range request for byte ${from} with byte ${cr[1]}`);
        }
      }
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        let c = chunk;
        if (skip) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        if (total !== undefined && got + c.length > total) c = c.subarray(0, total - got);
        if (!c.length) continue;
        got += c.length;
        attempt = 0; // progress was made: a later failure starts a fresh retry budget
        yield c;
        if (total !== undefined && got >= total) {
          res.body.destroy();
          return;
        }
      }
      if (total !== undefined && got < total) throw Object.assign(new Error(`body ended after ${got} of ${total} bytes`), { code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' });
      return;
    } catch (e) {
      if (e instanceof IoError) throw e;
      if (!retryable(e) || attempt >= policy.retries) {
        const why = e instanceof HttpStatusError ? `HTTP ${e.status}` : describe(e);
        throw new IoError(`cannot fetch ${url}: ${why}${attempt ? ` (after ${attempt} retries)` : ''}`);
      }
      const wait = Math.max(backoffMs(attempt, policy), e instanceof HttpStatusError ? Math.min(e.retryAfterMs ?? 0, MAX_RETRY_AFTER) : 0);
      attempt++;
      warn(`${url}: ${e instanceof HttpStatusError ? `HTTP ${e.status}` : describe(e)}; retry ${attempt}/${policy.retries} in ${(wait / 1000).toFixed(1)}s`);
      await sleep(wait);
    }
  }
}
