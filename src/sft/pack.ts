// Examples -> rows of T tokens. Each epoch is laid out from the seed alone (shuffle, then pack), so a resumed run
// recomputes the epoch and continues at the saved row: exact resume without storing the layout.
//   bfd      best-fit decreasing: longest first, each into the fullest row it fits (the fewest pad tokens);
//            rows then shuffled
//   wrapped  examples in shuffled order, concatenated and cut every T tokens (an example may span two rows)
//   none     one example per row, padded
// Packed examples never see each other: each is its own attention segment (positions restart at its first
// token), and the last token of a piece is not a target.
import { Rng } from '../util/rng.js';
import type { TokenBatch } from '../train/step.js';
import type { Encoded } from './encode.js';

export const PACKINGS = ['bfd', 'wrapped', 'none'] as const;
export type Packing = (typeof PACKINGS)[number];

/** Tokens [from, from + len) of example `ex`. */
export interface Piece {
  ex: number;
  from: number;
  len: number;
}
export type Row = Piece[];

function shuffled(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The rows of one epoch. Examples longer than T are cut to their first T tokens (bfd, none). */
export function packEpoch(lengths: number[], T: number, mode: Packing, seed: number, epoch: number): Row[] {
  const rng = new Rng(seed * 7919 + epoch);
  const order = shuffled(lengths.length, rng);
  if (mode === 'none') return order.map((ex) => [{ ex, from: 0, len: Math.min(T, lengths[ex]) }]);
  if (mode === 'wrapped') {
    const rows: Row[] = [];
    let row: Row = [];
    let used = 0;
    for (const ex of order)
      for (let from = 0; from < lengths[ex]; ) {
        const len = Math.min(lengths[ex] - from, T - used);
        row.push({ ex, from, len });
        from += len;
        used += len;
        if (used === T) {
          rows.push(row);
          row = [];
          used = 0;
        }
      }
    if (row.length) rows.push(row);
    return rows;
  }
  // Best fit: rows indexed by their free space, so the fullest row that fits is the first non-empty list at or
  // above the example's length.
  const byFree: Row[][] = Array.from({ length: T + 1 }, () => []);
  const rowsFree = new Map<Row, number>();
  const decreasing = [...order].sort((a, b) => Math.min(T, lengths[b]) - Math.min(T, lengths[a]));
  for (const ex of decreasing) {
    const len = Math.min(T, lengths[ex]);
    let free = len;
    while (free <= T && !byFree[free].length) free++;
    const row = free <= T ? byFree[free].pop()! : [];
    const left = (free <= T ? free : T) - len;
    row.push({ ex, from: 0, len });
    rowsFree.set(row, left);
    byFree[left].push(row);
  }
  const rows = [...rowsFree.keys()];
  return shuffled(rows.length, rng).map((i) => rows[i]);
}

/** Tokens that carry data (not padding) over all tokens of the rows: packing efficiency. */
export function fillRatio(rows: Row[], T: number): number {
  let used = 0;
  for (const r of rows) for (const p of r) used += p.len;
  return rows.length ? used / (rows.length * T) : 0;
}

export interface PackedBatch extends TokenBatch {
  segments: Int32Array;
  /** Positions whose target is trained. */
  trained: number;
  /** Per position, the example its target belongs to (-1: none; the tags of per-format losses). */
  example: Int32Array;
}

/**
 * Rows as one batch [rows, T]: ids, next-token targets, the trained mask as weights (a target inside the same
 * piece only), and per position the row index where its segment starts. Padding targets `pad` with weight 0
 * (a valid id: the native cross-entropy rejects ids outside the vocabulary).
 */
export function rowsToBatch(rows: Row[], examples: Encoded[], T: number, pad: number): PackedBatch {
  const n = rows.length * T;
  const ids = new Int32Array(n).fill(pad);
  const targets = new Int32Array(n).fill(pad);
  const weights = new Float32Array(n);
  const segments = new Int32Array(n);
  const example = new Int32Array(n).fill(-1);
  let trained = 0;
  rows.forEach((row, r) => {
    let t = 0;
    for (const p of row) {
      const e = examples[p.ex];
      for (let i = 0; i < p.len; i++) {
        const at = r * T + t + i;
        ids[at] = e.ids[p.from + i];
        segments[at] = t;
        if (i + 1 < p.len) {
          targets[at] = e.ids[p.from + i + 1];
          weights[at] = e.trained[p.from + i + 1];
          example[at] = p.ex;
          trained += weights[at];
        }
      }
      t += p.len;
    }
    for (let i = t; i < T; i++) segments[r * T + i] = t; // padding: a segment of its own
  });
  return { ids, targets, weights, segments, trained, example };
}
