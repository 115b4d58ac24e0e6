// The first reading of `mine select`: each document's score, tie-break hash, token count and position
// (24 bytes a document, whatever its size).
import { DataError } from '../../cli/errors.js';
import { readJsonlBatches, recordWhere, type ReadStats } from '../../jsonl/index.js';
import { stableHash } from './rank.js';
import type { TokenCounter } from './count.js';

export interface Scanned {
  n: number;
  score: Float64Array;
  hash: Float64Array;
  tokens: Float64Array;
  file: Uint16Array;
  line: Uint32Array;
}

export interface ScanFields {
  textField: string;
  scoreField: string;
  idField: string;
}

function grow<T extends Float64Array | Uint16Array | Uint32Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  const b = new (a.constructor as new (k: number) => T)(Math.max(1024, a.length * 2, n));
  b.set(a);
  return b;
}

/** The hash that breaks score ties: of the id, or of the whole line for records without one. */
export function tieHash(rec: Record<string, unknown>, raw: string, idField: string): number {
  const id = rec[idField];
  return stableHash(typeof id === 'string' || typeof id === 'number' ? String(id) : raw);
}

export async function scan(inputs: string[], f: ScanFields, count: TokenCounter, stats: ReadStats, skipInvalid: boolean): Promise<Scanned> {
  const s: Scanned = { n: 0, score: new Float64Array(0), hash: new Float64Array(0), tokens: new Float64Array(0), file: new Uint16Array(0), line: new Uint32Array(0) };
  for (let fi = 0; fi < inputs.length; fi++) {
    for await (const batch of readJsonlBatches([inputs[fi]!], { stats, skipInvalid })) {
      const need = s.n + batch.length;
      s.score = grow(s.score, need);
      s.hash = grow(s.hash, need);
      s.tokens = grow(s.tokens, need);
      s.file = grow(s.file, need);
      s.line = grow(s.line, need);
      for (const r of batch) {
        const score = r.value[f.scoreField];
        const text = r.value[f.textField];
        const bad = typeof score !== 'number' ? `missing or non-numeric field "${f.scoreField}" (score documents with classify predict first)` : typeof text !== 'string' ? `missing or non-string field "${f.textField}"` : undefined;
        const tokens = bad ? NaN : count(text as string, r.value);
        const why = bad ?? (Number.isNaN(tokens) ? 'no usable token count' : undefined);
        if (why) {
          if (skipInvalid) {
            stats.skipped++;
            continue;
          }
          throw new DataError(recordWhere(r), why);
        }
        const d = s.n++;
        s.score[d] = score as number;
        s.hash[d] = tieHash(r.value, r.raw, f.idField);
        s.tokens[d] = tokens;
        s.file[d] = fi;
        s.line[d] = r.line;
      }
    }
  }
  return s;
}
