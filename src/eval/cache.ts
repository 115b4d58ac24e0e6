// The response cache behind resume: every finished request is appended to a JSONL file at once, keyed by a
// hash of everything that determines its output (model, prompt, sampling parameters, seed). A re-run reads
// the file and sends only what is missing. A crash in the middle of an append leaves a last line without its
// newline: on open that tail is cut off (the request is simply sent again), so the next append starts a line
// of its own instead of being glued to the broken one.
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { warn } from '../cli/log.js';
import type { Completion, GenerateRequest, TextGenerator } from '../model/types.js';

export function requestKey(model: string, extra: string, req: GenerateRequest): string {
  const { prompt, maxTokens, temperature, topP, stop, n, seed } = req;
  return createHash('sha256').update(JSON.stringify([model, extra, prompt, maxTokens, temperature, topP ?? null, stop ?? [], n, seed ?? null])).digest('hex');
}

export class CachedGenerator implements TextGenerator {
  readonly name: string;
  private readonly map = new Map<string, Completion[]>();
  hits = 0;
  misses = 0;

  /** `extra` distinguishes otherwise identical requests (chat vs completions, system prompt). */
  constructor(
    readonly inner: TextGenerator,
    private readonly path: string,
    private readonly extra = '',
  ) {
    this.name = inner.name;
    if (!existsSync(path)) return;
    const buf = readFileSync(path);
    let bad = 0;
    let end = buf.length;
    if (end > 0 && buf[end - 1] !== 0x0a) {
      end = buf.lastIndexOf(0x0a) + 1;
      truncateSync(path, end);
      bad++;
    }
    const lines = buf.subarray(0, end).toString('utf8').split('\n');
    for (const l of lines) {
      if (!l) continue;
      try {
        const e = JSON.parse(l) as { key: string; completions: Completion[] };
        if (typeof e.key === 'string' && Array.isArray(e.completions)) this.map.set(e.key, e.completions);
        else bad++;
      } catch {
        bad++;
      }
    }
    if (bad) warn(`${path}: ignored ${bad} unreadable cache line${bad === 1 ? '' : 's'} (an interrupted run${end < buf.length ? '; its unfinished last line was removed' : ''})`);
  }

  get size(): number {
    return this.map.size;
  }

  async generate(req: GenerateRequest): Promise<Completion[]> {
    const key = requestKey(this.inner.version ? `${this.inner.name}@${this.inner.version}` : this.inner.name, this.extra, req);
    const hit = this.map.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const out = await this.inner.generate(req);
    this.map.set(key, out);
    appendFileSync(this.path, JSON.stringify({ key, completions: out }) + '\n');
    return out;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
