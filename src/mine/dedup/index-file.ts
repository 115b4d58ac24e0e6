// The dedup index: the band keys and URL hashes of documents kept in earlier rounds, so a new round
// removes what is already collected (--index) and adds its own (--write-index). Binary, little-endian:
//   "MPDEDUP1" | u32 ngram, bands, rows, seed | f64 documents, urls |
//   bands x documents u64 keys (each band sorted) | urls u64 hashes (sorted)
// The MinHash settings are stored and checked: keys made with other settings never match.
import { readFileSync } from 'node:fs';
import { DataError, IoError, systemReason } from '../../cli/errors.js';
import { writeOutputFd, writeAll } from '../../cli/output-file.js';
import type { MinHashConfig } from './minhash.js';
import type { DocTable } from './table.js';

const MAGIC = 'MPDEDUP1';
const HEADER = 8 + 16 + 16;

export interface DedupIndex {
  cfg: MinHashConfig;
  /** Per band, sorted keys. */
  bands: BigUint64Array[];
  urls: BigUint64Array;
}

function u64(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Index of the documents `keep(d)` selects from a table (the kept ones). */
export function buildIndex(t: DocTable, cfg: MinHashConfig, keep: (d: number) => boolean): DedupIndex {
  const docs: number[] = [];
  const urls: bigint[] = [];
  for (let d = 0; d < t.n; d++) {
    if (!keep(d)) continue;
    if (t.sig[d]) docs.push(d);
    if (t.hasUrl(d)) urls.push(u64(t.url[2 * d]!, t.url[2 * d + 1]!));
  }
  const bands = Array.from({ length: cfg.bands }, (_, b) => {
    const col = new BigUint64Array(docs.length);
    docs.forEach((d, i) => (col[i] = u64(t.keys[(d * cfg.bands + b) * 2]!, t.keys[(d * cfg.bands + b) * 2 + 1]!)));
    return col.sort();
  });
  return { cfg, bands, urls: BigUint64Array.from(urls).sort() };
}

/** One index of several (the shards of a sharded run). */
export function mergeIndexes(cfg: MinHashConfig, parts: DedupIndex[]): DedupIndex {
  const cat = (arrays: BigUint64Array[]) => {
    const out = new BigUint64Array(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out.sort();
  };
  return { cfg, bands: Array.from({ length: cfg.bands }, (_, b) => cat(parts.map((p) => p.bands[b]!))), urls: cat(parts.map((p) => p.urls)) };
}

export function writeIndex(path: string, ix: DedupIndex): void {
  const head = Buffer.alloc(HEADER);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(ix.cfg.ngram, 8);
  head.writeUInt32LE(ix.cfg.bands, 12);
  head.writeUInt32LE(ix.cfg.rows, 16);
  head.writeUInt32LE(ix.cfg.seed >>> 0, 20);
  head.writeDoubleLE(ix.bands[0]?.length ?? 0, 24);
  head.writeDoubleLE(ix.urls.length, 32);
  writeOutputFd(path, (fd) => {
    writeAll(fd, head);
    for (const b of ix.bands) writeAll(fd, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    writeAll(fd, new Uint8Array(ix.urls.buffer, ix.urls.byteOffset, ix.urls.byteLength));
  });
}

export function readIndex(path: string, cfg: MinHashConfig): DedupIndex {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IoError(`cannot read ${path}: ${systemReason(e as Error)}`);
  }
  if (buf.length < HEADER || buf.toString('latin1', 0, 8) !== MAGIC) throw new DataError(path, 'not a mathpipe dedup index (written by mine dedup --write-index)');
  const got = { ngram: buf.readUInt32LE(8), bands: buf.readUInt32LE(12), rows: buf.readUInt32LE(16), seed: buf.readUInt32LE(20) };
  if (got.ngram !== cfg.ngram || got.bands !== cfg.bands || got.rows !== cfg.rows || got.seed !== (cfg.seed >>> 0)) {
    throw new DataError(path, `index made with --ngram ${got.ngram}, ${got.bands} bands x ${got.rows} rows, --seed ${got.seed}; this run uses --ngram ${cfg.ngram}, ${cfg.bands} x ${cfg.rows}, --seed ${cfg.seed}`);
  }
  const docs = buf.readDoubleLE(24);
  const nurls = buf.readDoubleLE(32);
  if (buf.length !== HEADER + 8 * (docs * cfg.bands + nurls)) throw new DataError(path, 'truncated or corrupt dedup index');
  // Copy into aligned arrays (the file buffer's offset need not be a multiple of 8).
  const at = (off: number, n: number) => new BigUint64Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 8 * n));
  const bands = Array.from({ length: cfg.bands }, (_, b) => at(HEADER + 8 * docs * b, docs));
  return { cfg, bands, urls: at(HEADER + 8 * docs * cfg.bands, nurls) };
}

function has(sorted: BigUint64Array, v: bigint): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === v;
}

/** Documents of the table (numbers from `base`) that share a band key or URL with any index. */
export function indexMatches(t: DocTable, indexes: DedupIndex[], into: Uint8Array, base = 0): number {
  let n = 0;
  for (let d = 0; d < t.n; d++) {
    let hit = false;
    for (const ix of indexes) {
      if (t.hasUrl(d) && has(ix.urls, u64(t.url[2 * d]!, t.url[2 * d + 1]!))) hit = true;
      for (let b = 0; !hit && t.sig[d] && b < ix.cfg.bands; b++) {
        const k = (d * ix.cfg.bands + b) * 2;
        if (has(ix.bands[b]!, u64(t.keys[k]!, t.keys[k + 1]!))) hit = true;
      }
      if (hit) break;
    }
    if (hit) {
      into[base + d] = 1;
      n++;
    }
  }
  return n;
}
