// What to read: local WARC/WET files, stdin, http(s) URLs, Common Crawl path lists (`warc.paths.gz`:
// one path per line, resolved against a base URL), and CC index JSONL (filename/offset/length per line,
// each a byte-range read of one record).
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { DataError, UsageError, at } from '../cli/errors.js';
import { readJsonl } from '../jsonl/index.js';
import type { ByteRange } from './fetch.js';

export interface Source {
  /** What provenance.file says: the path or URL as resolved. */
  name: string;
  kind: 'file' | 'url' | 'stdin';
  range?: ByteRange;
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

export function isPathList(s: string): boolean {
  return /\.paths(?:\.gz)?$/i.test(s);
}

/** Resolve a path from a list against the base (a URL or a local directory). */
export function resolveAgainst(base: string, p: string): string {
  if (isUrl(p) || p.startsWith('/')) return p;
  if (isUrl(base)) return new URL(p, base.endsWith('/') ? base : `${base}/`).href;
  return `${base.replace(/\/+$/, '')}/${p}`;
}

export function sourceFor(location: string, range?: ByteRange): Source {
  const kind = location === '-' ? 'stdin' : isUrl(location) ? 'url' : 'file';
  return range ? { name: location, kind, range } : { name: location, kind };
}

/** "offset:length" (CC index style). */
export function parseRange(s: string): ByteRange {
  const m = /^(\d+):(\d+)$/.exec(s.trim());
  if (!m || Number(m[2]) === 0) throw new UsageError(`--range wants OFFSET:LENGTH in bytes (e.g. 1234:5678), got "${s}"`);
  return { offset: Number(m[1]), length: Number(m[2]) };
}

/** Lines of a (possibly gzipped) text source. */
async function* textLines(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const it = bytes[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const all = (async function* () {
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  const gz = first.value[0] === 0x1f && first.value[1] === 0x8b;
  const stream = gz ? Readable.from(all).pipe(createGunzip()) : Readable.from(all);
  let carry = '';
  for await (const chunk of stream) {
    const parts = (carry + (chunk as Buffer).toString('utf8')).split('\n');
    carry = parts.pop()!;
    for (const l of parts) yield l;
  }
  if (carry) yield carry;
}

/** Expand a `*.paths(.gz)` list into sources. */
export async function pathListSources(listName: string, bytes: AsyncIterable<Buffer>, base: string): Promise<Source[]> {
  const out: Source[] = [];
  let n = 0;
  for await (const raw of textLines(bytes)) {
    n++;
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    if (/\s/.test(l)) throw new DataError(at(listName, n), `a paths list has one path per line, got "${l.slice(0, 80)}"`);
    out.push(sourceFor(resolveAgainst(base, l)));
  }
  return out;
}

function intField(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** CC index records (the JSON the index server returns with output=json): filename, offset, length. */
export async function ccIndexSources(path: string, base: string): Promise<Source[]> {
  const out: Source[] = [];
  for await (const rec of readJsonl([path])) {
    const v = rec.value;
    const offset = intField(v.offset);
    const length = intField(v.length);
    if (typeof v.filename !== 'string' || offset === undefined || !length) {
      throw new DataError(at(rec.file, rec.line), 'a CC index record needs "filename", "offset" and "length"');
    }
    out.push(sourceFor(resolveAgainst(base, v.filename), { offset, length }));
  }
  return out;
}
