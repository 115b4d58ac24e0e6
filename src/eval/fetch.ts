// `eval fetch`: download benchmark files from their canonical public URLs (pinned to a commit) into a cache
// directory laid out like ../shared/data/benchmarks, verifying each file's sha256 (and, as `prompts`,
// DeepSeek's few-shot prompt files, converted into ../prompts beside it). A file already in the
// cache with the right hash is not downloaded again; a wrong hash is an error and nothing is kept.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { fetch } from 'undici';
import { IoError, UsageError } from '../cli/errors.js';
import { writeOutputFile } from '../cli/output-file.js';
import { info, warn } from '../cli/log.js';
import { benchmark, splitFile } from './benchmarks.js';
import { PROMPT_FILES, promptUrl, promptsCached, writePromptFiles } from './prompt-files.js';

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'mathpipe', 'benchmarks');
}

const CANONICAL_HOST = 'https://raw.githubusercontent.com';

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function download(url: string, retries: number, backoffMs: number): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    let why: string;
    try {
      const res = await fetch(url, { redirect: 'follow' });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 200) return body;
      why = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429 && res.status !== 408) throw new IoError(`${url}: ${why}`);
    } catch (e) {
      if (e instanceof IoError) throw e;
      why = (e as Error).message;
    }
    if (attempt >= retries) throw new IoError(`${url}: ${why} (gave up after ${attempt + 1} attempts)`);
    await new Promise((r) => setTimeout(r, backoffMs * 2 ** attempt));
  }
}

export interface FetchOptions {
  benches: string[];
  split: string;
  cacheDir: string;
  /** Replaces https://raw.githubusercontent.com in the canonical URLs (a mirror or a test server). */
  mirror?: string;
  retries: number;
  backoffMs: number;
  force: boolean;
}

/** DeepSeek's few-shot prompt files, converted, into <cache-dir>/../prompts (where `eval run` looks by default). */
async function fetchPrompts(o: FetchOptions): Promise<string[]> {
  const dir = join(o.cacheDir, '..', 'prompts');
  if (!o.force && promptsCached(dir)) {
    info(`prompts: cached in ${dir}`);
    return PROMPT_FILES.map((n) => join(dir, `${n}.json`));
  }
  const files = [];
  for (const name of PROMPT_FILES) {
    const canonical = promptUrl(name);
    const url = o.mirror ? canonical.replace(CANONICAL_HOST, o.mirror.replace(/\/+$/, '')) : canonical;
    // The URL names a commit, so its bytes cannot change; the parse checks their shape.
    files.push({ name, url: canonical, source: (await download(url, o.retries, o.backoffMs)).toString('utf8') });
  }
  return writePromptFiles(dir, files);
}

export async function fetchBenchmarks(o: FetchOptions): Promise<string[]> {
  const written: string[] = [];
  for (const name of o.benches) {
    if (name === 'prompts') {
      written.push(...(await fetchPrompts(o)));
      continue;
    }
    const b = benchmark(name);
    const f = splitFile(b, o.split);
    if (!f.url) throw new UsageError(`${name} ${o.split} has no canonical single-file URL; use --data-dir with a local copy`);
    const dest = join(o.cacheDir, f.path);
    if (!o.force && existsSync(dest) && (!f.sha256 || sha256(readFileSync(dest)) === f.sha256)) {
      info(`${name}/${o.split}: cached at ${dest}`);
      written.push(dest);
      continue;
    }
    const url = o.mirror ? f.url.replace(CANONICAL_HOST, o.mirror.replace(/\/+$/, '')) : f.url;
    const body = await download(url, o.retries, o.backoffMs);
    const got = sha256(body);
    if (f.sha256 && got !== f.sha256) throw new IoError(`${url}: sha256 mismatch (got ${got}, expected ${f.sha256}); nothing written`);
    if (!f.sha256) warn(`${name}/${o.split}: no pinned sha256; downloaded file has ${got}`);
    mkdirSync(dirname(dest), { recursive: true });
    writeOutputFile(dest, body);
    info(`${name}/${o.split}: ${body.length} bytes, sha256 ok -> ${dest}`);
    written.push(dest);
  }
  return written;
}
