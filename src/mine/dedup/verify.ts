// Optional Jaccard verification of candidate pairs (--verify J): LSH candidates are pairs likely to be
// similar; this computes the true Jaccard similarity of their shingle sets and keeps the pairs at or
// above J. Only documents in some pair have their shingles computed, on a second reading of the input.
import { MinHasher, jaccard, type MinHashConfig } from './minhash.js';
import { Pairs } from './lsh.js';
import { docLines } from './doc-lines.js';
import type { DocTable } from './table.js';

/** The distinct pairs of a list (a pair found in several bands counts once). */
export function distinctPairs(p: Pairs): Pairs {
  const keys = new BigUint64Array(p.n);
  for (let i = 0; i < p.n; i++) {
    const [x, y] = p.a[i]! < p.b[i]! ? [p.a[i]!, p.b[i]!] : [p.b[i]!, p.a[i]!];
    keys[i] = (BigInt(x) << 32n) | BigInt(y);
  }
  keys.sort();
  const out = new Pairs();
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && keys[i] === keys[i - 1]) continue;
    out.push(Number(keys[i]! >> 32n), Number(keys[i]! & 0xffffffffn));
  }
  return out;
}

export async function verifyPairs(inputs: string[], t: DocTable, p: Pairs, cfg: MinHashConfig, textField: string, threshold: number): Promise<Pairs> {
  const pairs = distinctPairs(p);
  const need = new Uint8Array(t.n);
  for (let i = 0; i < pairs.n; i++) need[pairs.a[i]!] = need[pairs.b[i]!] = 1;
  const hasher = new MinHasher(cfg);
  const sets = new Map<number, BigUint64Array>();
  for await (const batch of docLines(inputs, t)) {
    for (const { d, text } of batch) if (need[d]) sets.set(d, hasher.shingleSet((JSON.parse(text) as Record<string, string>)[textField]!));
  }
  const out = new Pairs();
  for (let i = 0; i < pairs.n; i++) {
    const a = pairs.a[i]!;
    const b = pairs.b[i]!;
    if (jaccard(sets.get(a)!, sets.get(b)!) >= threshold) out.push(a, b);
  }
  return out;
}
