// Training data: token datasets (Megatron indexed, from `tokenize`) mixed by weight. Each training sequence
// picks a dataset with probability proportional to its weight, then either a uniformly random window of
// seqLen+1 tokens (inputs and shifted targets), as nanoGPT does, or the dataset's next packed sequence: the
// token stream cut into consecutive seqLen-token sequences (documents back to back, as Megatron's GPTDataset),
// each used once per epoch in a shuffled order. All randomness comes from one Rng and the packed cursors, both
// checkpointed, so a resumed run sees exactly the batches the uninterrupted run would have seen.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DataError, UsageError } from '../cli/errors.js';
import { IndexedDataset, datasetPrefix, weightedPrefix } from '../dataset/indexed.js';
import type { TokenBatch } from '../train/step.js';
import type { Rng } from '../util/rng.js';

export interface SourceSpec {
  weight: number;
  prefix: string;
}

export interface Source extends SourceSpec {
  ds: IndexedDataset;
}

/** `--data 0.56:path/a` or `--data path/a` (weight 1). */
export function parseDataArg(s: string): SourceSpec {
  const { weight = 1, prefix } = weightedPrefix(s);
  if (!(weight > 0)) throw new UsageError(`--data ${s}: the weight must be positive`);
  return { weight, prefix };
}

/**
 * A blend file: JSON, either [{"weight": 0.56, "prefix": "a"}, ...], {"datasets": [...]} (also "path" for
 * "prefix"), or Megatron's flat list ["0.56", "a", "0.44", "b"]. Relative prefixes are relative to the file.
 */
export function readBlendFile(path: string): SourceSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataError(path, `cannot read blend: ${(e as Error).message}`);
  }
  const base = dirname(path);
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const list = Array.isArray(raw) ? raw : (raw as { datasets?: unknown })?.datasets;
  if (!Array.isArray(list) || list.length === 0) throw new DataError(path, 'blend must be a non-empty list of {weight, prefix}');
  const out: SourceSpec[] = [];
  if (list.every((x) => typeof x === 'string' || typeof x === 'number')) {
    if (list.length % 2) throw new DataError(path, 'flat blend list must alternate weight and prefix');
    for (let i = 0; i < list.length; i += 2) out.push({ weight: Number(list[i]), prefix: rel(String(list[i + 1])) });
  } else {
    list.forEach((e, i) => {
      const o = e as { weight?: unknown; prefix?: unknown; path?: unknown };
      const p = o?.prefix ?? o?.path;
      if (typeof p !== 'string') throw new DataError(`${path}: dataset ${i}`, 'needs "prefix"');
      out.push({ weight: o.weight === undefined ? 1 : Number(o.weight), prefix: rel(p) });
    });
  }
  for (const s of out) if (!(s.weight > 0)) throw new DataError(path, `dataset ${s.prefix}: weight must be positive`);
  return out.map((s) => ({ ...s, prefix: datasetPrefix(s.prefix) }));
}

export function openSources(specs: SourceSpec[], seqLen: number): Source[] {
  return specs.map((s) => {
    const ds = IndexedDataset.open(s.prefix);
    if (ds.numTokens < seqLen + 1) throw new DataError(`${s.prefix}.bin`, `has ${ds.numTokens} tokens, fewer than one window of ${seqLen + 1}`);
    return { ...s, ds };
  });
}

function fill(src: Source, start: number, T: number, vocab: number, b: number, out: TokenBatch): void {
  const w = src.ds.window(start, T + 1);
  for (let t = 0; t < T + 1; t++) {
    const id = w[t];
    if (id >= vocab) throw new DataError(`${src.prefix}.bin`, `token ${id} at position ${start + t} is outside the model's vocabulary of ${vocab}`);
  }
  for (let t = 0; t < T; t++) {
    out.ids[b * T + t] = w[t];
    out.targets[b * T + t] = w[t + 1];
  }
}

export const SAMPLINGS = ['random', 'packed'] as const;
export type Sampling = (typeof SAMPLINGS)[number];

/** Where each source is in its packed sequences: epoch, and sequences of that epoch already used. */
export interface PackedCursor {
  epoch: number;
  next: number;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A keyed bijection on [0, n): a 4-round Feistel network on the smallest even-bit domain >= n, walked until it
 * lands inside [0, n). The shuffled order costs no memory however many sequences a dataset holds.
 */
export function permute(i: number, n: number, key: number): number {
  let bits = 2;
  while (2 ** bits < n) bits += 2;
  const half = bits / 2;
  const size = 2 ** half;
  let x = i;
  do {
    let l = Math.floor(x / size);
    let r = x % size;
    for (let round = 0; round < 4; round++) {
      const f = mix32(r ^ mix32(key + round * 0x9e3779b9)) % size;
      [l, r] = [r, (l ^ f) % size];
    }
    x = l * size + r;
  } while (x >= n);
  return x;
}

export class MixtureSampler {
  private readonly cum: number[];
  /** Packed mode only: per-source position, checkpointed with the trainer state. */
  cursors: PackedCursor[];

  constructor(
    readonly sources: Source[],
    readonly seqLen: number,
    readonly vocab: number,
    readonly sampling: Sampling = 'random',
    private readonly seed = 0,
  ) {
    const total = sources.reduce((a, s) => a + s.weight, 0);
    let acc = 0;
    this.cum = sources.map((s) => (acc += s.weight / total));
    this.cursors = sources.map(() => ({ epoch: 0, next: 0 }));
  }

  /** Packed sequences in a source: consecutive seqLen-token inputs, each with its next token as the last target. */
  packedCount(k: number): number {
    return Math.floor((this.sources[k].ds.numTokens - 1) / this.seqLen);
  }

  private packedStart(k: number): number {
    const n = this.packedCount(k);
    // A resumed cursor past the end (the dataset was rebuilt shorter under the same name) starts the next epoch.
    if (this.cursors[k].next >= n) this.cursors[k] = { epoch: this.cursors[k].epoch + 1, next: 0 };
    const c = this.cursors[k];
    const j = permute(c.next, n, mix32(this.seed ^ mix32(k * 0x632be5ab + c.epoch)));
    if (++c.next === n) this.cursors[k] = { epoch: c.epoch + 1, next: 0 };
    return j * this.seqLen;
  }

  /** Normalised mixture weights, in --data order. */
  get weights(): number[] {
    return this.cum.map((c, i) => c - (i ? this.cum[i - 1] : 0));
  }

  batch(B: number, rng: Rng): TokenBatch {
    const T = this.seqLen;
    const out = { ids: new Int32Array(B * T), targets: new Int32Array(B * T) };
    for (let b = 0; b < B; b++) {
      const u = rng.next();
      let k = this.cum.findIndex((c) => u < c);
      if (k < 0) k = this.sources.length - 1;
      const src = this.sources[k];
      fill(src, this.sampling === 'packed' ? this.packedStart(k) : rng.int(src.ds.numTokens - T), T, this.vocab, b, out);
    }
    return out;
  }
}

/** Validation batches: consecutive non-overlapping windows from the start of each dataset, round-robin; fixed. */
export function validationBatches(sources: Source[], seqLen: number, vocab: number, B: number, count: number): TokenBatch[] {
  const T = seqLen;
  const next = sources.map(() => 0);
  const out: TokenBatch[] = [];
  let k = 0;
  for (let n = 0; n < count; n++) {
    const batch = { ids: new Int32Array(B * T), targets: new Int32Array(B * T) };
    for (let b = 0; b < B; b++) {
      const src = sources[k % sources.length];
      const i = k % sources.length;
      if (next[i] + T + 1 > src.ds.numTokens) next[i] = 0;
      fill(src, next[i], T, vocab, b, batch);
      next[i] += T;
      k++;
    }
    out.push(batch);
  }
  return out;
}

/**
 * Every consecutive non-overlapping window of one dataset once, from the start, in batches of up to B rows
 * (the last batch may be shorter): scoring a checkpoint on the whole dataset. `limit` caps the windows.
 */
export function* datasetWindows(src: Source, seqLen: number, vocab: number, B: number, limit = Infinity): Generator<TokenBatch & { rows: number }> {
  const T = seqLen;
  const windows = Math.min(limit, Math.floor((src.ds.numTokens - 1) / T));
  for (let w = 0; w < windows; w += B) {
    const rows = Math.min(B, windows - w);
    const batch = { ids: new Int32Array(rows * T), targets: new Int32Array(rows * T), rows };
    for (let b = 0; b < rows; b++) fill(src, (w + b) * T, T, vocab, b, batch);
    yield batch;
  }
}
