// `mathpipe tokenize mix`: a training mixture (e.g. 56% math, 4% AlgebraicStack, 10% arXiv, 20% code,
// 10% natural language) from several token datasets. Source i gets round(p_i * N) tokens of whole
// documents, taken in a seeded random order (repeating in fresh orders when it is upsampled), so it
// overshoots its share by less than one document; the chosen documents are then interleaved in a
// seeded random order. A held-out validation mixture is built the same way from documents set aside
// first. Alternatively only a blend spec is written (weights + prefixes), which `pretrain` samples from.
import { writeOutputFile } from '../cli/output-file.js';
import { basename, resolve } from 'node:path';
import { DataError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { IndexedDataset, datasetPrefix, weightedPrefix, type TokenDType } from '../dataset/indexed.js';
import { createDataset } from './create.js';
import { Rng } from '../util/rng.js';
import { readMeta, writeMeta } from './meta.js';

export interface MixSource {
  weight: number;
  prefix: string;
}

export interface MixArgs {
  sources: MixSource[];
  output?: string;
  blend?: string;
  tokens?: number;
  validFraction: number;
  seed: number;
}

export interface SourceTake {
  name: string;
  prefix: string;
  weight: number;
  /** Target share of the mixture in tokens, and what whole documents gave. */
  target_tokens: number;
  tokens: number;
  documents: number;
  /** Passes over the source's pool (>1 when upsampled). */
  epochs: number;
  available_tokens: number;
}

/** `0.56:path/prefix` (the same syntax as `pretrain --data`). */
export function parseSource(s: string): MixSource {
  const { weight, prefix } = weightedPrefix(s);
  if (weight === undefined) throw new UsageError(`${s}: give each source as WEIGHT:PREFIX (e.g. 56:data/math)`);
  if (!(weight > 0)) throw new UsageError(`${s}: the weight must be positive`);
  return { weight, prefix };
}

function shuffled(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

interface Pool {
  ds: IndexedDataset;
  docs: Int32Array;
  tokens: number;
}

/** Documents of each pool chosen for the mixture, and the accounting. */
export function choose(pools: Pool[], weights: number[], total: number | undefined, seed: number, salt: number) {
  const sum = weights.reduce((a, b) => a + b, 0);
  const p = weights.map((w) => w / sum);
  // Default size: as large as possible without repeating any source.
  const auto = total === undefined;
  const N = auto ? Math.min(...pools.map((pl, i) => pl.tokens / p[i])) : total;
  const picks: Int32Array[] = [];
  const takes = pools.map((pl, i) => {
    let target = Math.round(p[i] * N);
    if (auto) target = Math.min(target, pl.tokens);
    const out: number[] = [];
    let got = 0;
    let epoch = 0;
    if (target > 0 && pl.tokens === 0) throw new DataError(pl.ds.prefix, 'has no tokens to take');
    while (got < target) {
      const order = shuffled(pl.docs.length, new Rng(seed * 1000003 + salt * 7919 + i * 101 + epoch));
      epoch++;
      for (let k = 0; k < order.length && got < target; k++) {
        const d = pl.docs[order[k]];
        out.push(d);
        got += pl.ds.lengths[d];
      }
    }
    picks.push(Int32Array.from(out));
    return { target, got, documents: out.length, epochs: epoch };
  });
  return { picks, takes };
}

function writeMixture(prefix: string, dtype: TokenDType, pools: Pool[], picks: Int32Array[], seed: number): number {
  const total = picks.reduce((a, b) => a + b.length, 0);
  const src = new Int32Array(total);
  const doc = new Int32Array(total);
  let o = 0;
  picks.forEach((pk, i) => {
    for (const d of pk) {
      src[o] = i;
      doc[o++] = d;
    }
  });
  const order = shuffled(total, new Rng(seed * 1000003 + 424242));
  const w = createDataset(prefix, dtype);
  try {
    for (let k = 0; k < total; k++) {
      const j = order[k];
      const seq = pools[src[j]].ds.sequence(doc[j]);
      if (seq instanceof Uint16Array === (dtype === 'uint16')) w.addMany(seq, [seq.length]);
      else w.add(seq);
    }
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
  return w.tokens;
}

export async function run(a: MixArgs): Promise<void> {
  if (!a.output && !a.blend) throw new UsageError('give -o PREFIX (write the mixed dataset) or --blend FILE (write a blend spec), or both');
  const dss = a.sources.map((s) => IndexedDataset.open(s.prefix));
  const metas = a.sources.map((s) => readMeta(s.prefix));
  const tokenizers = new Set(metas.map((m) => m?.tokenizer).filter((x): x is string => typeof x === 'string'));
  if (tokenizers.size > 1) throw new UsageError(`sources were made with different tokenizers (${[...tokenizers].join(', ')}); ids would not mean the same thing`);
  const names = a.sources.map((s) => basename(s.prefix));
  const weights = a.sources.map((s) => s.weight);
  const sum = weights.reduce((x, y) => x + y, 0);

  if (a.blend) {
    const spec = {
      format: 'mathpipe-blend',
      version: 1,
      datasets: a.sources.map((s, i) => ({ name: names[i], weight: s.weight / sum, prefix: resolve(s.prefix), tokens: dss[i].numTokens, documents: dss[i].numSequences })),
      megatron_data_path: a.sources.map((s) => `${s.weight / sum} ${resolve(s.prefix)}`).join(' '),
      tokenizer: [...tokenizers][0] ?? null,
    };
    writeOutputFile(a.blend, JSON.stringify(spec, null, 2) + '\n');
    info(`blend of ${a.sources.length} datasets -> ${a.blend}`);
  }
  if (!a.output) {
    dss.forEach((d) => d.close());
    return;
  }

  // Validation documents are set aside per source before the mixture is drawn, so the two never share a document.
  const trainPools: Pool[] = [];
  const validPools: Pool[] = [];
  dss.forEach((ds, i) => {
    const order = shuffled(ds.numSequences, new Rng(a.seed * 1000003 + 99991 * (i + 1)));
    const nValid = a.validFraction > 0 ? Math.max(1, Math.round(ds.numSequences * a.validFraction)) : 0;
    if (nValid >= ds.numSequences && a.validFraction > 0) throw new UsageError(`${a.sources[i].prefix}: ${ds.numSequences} documents are too few for a validation split`);
    const v = order.slice(0, nValid).sort();
    const t = order.slice(nValid).sort();
    const count = (docs: Int32Array) => docs.reduce((acc, d) => acc + ds.lengths[d], 0);
    validPools.push({ ds, docs: v, tokens: count(v) });
    trainPools.push({ ds, docs: t, tokens: count(t) });
  });
  const dtype: TokenDType = dss.some((d) => d.dtype === 'int32') ? 'int32' : 'uint16';
  const prefix = datasetPrefix(a.output);
  const report = (takes: ReturnType<typeof choose>['takes'], pools: Pool[]): SourceTake[] =>
    takes.map((t, i) => ({
      name: names[i],
      prefix: resolve(a.sources[i].prefix),
      weight: weights[i] / sum,
      target_tokens: t.target,
      tokens: t.got,
      documents: t.documents,
      epochs: t.epochs,
      available_tokens: pools[i].tokens,
    }));

  const outputs: { prefix: string; pools: Pool[]; total?: number; salt: number }[] = [{ prefix, pools: trainPools, total: a.tokens, salt: 1 }];
  if (a.validFraction > 0) {
    const total = a.tokens !== undefined ? Math.round((a.tokens * a.validFraction) / (1 - a.validFraction)) : undefined;
    outputs.push({ prefix: `${prefix}.valid`, pools: validPools, total, salt: 2 });
  }
  const meta0 = metas.find((m) => m?.tokenizer);
  for (const out of outputs) {
    const { picks, takes } = choose(out.pools, weights, out.total, a.seed, out.salt);
    const written = writeMixture(out.prefix, dtype, out.pools, picks, a.seed + out.salt);
    const sources = report(takes, out.pools);
    const mixed = sources.reduce((x, s) => x + s.tokens, 0);
    for (const s of sources) if (s.epochs > 1) warn(`${s.name}: upsampled, ${s.epochs} passes over ${s.available_tokens} tokens`);
    const unknown = { tokenizer: null, tokenizer_name: null, vocab_size: null, eos_id: null, bos_id: null, eos_appended: null, bos_prepended: null };
    const { tokenizer, tokenizer_name, vocab_size, eos_id, bos_id, eos_appended, bos_prepended } = meta0 ?? unknown;
    writeMeta(out.prefix, {
      ...{ tokenizer, tokenizer_name, vocab_size, eos_id, bos_id, eos_appended, bos_prepended },
      dtype,
      documents: sources.reduce((x, s) => x + s.documents, 0),
      tokens: written,
      sources: sources.map((s) => s.prefix),
      mixture: { seed: a.seed, sources },
    });
    const parts = sources.map((s) => `${s.name} ${s.tokens} (${((100 * s.tokens) / mixed).toFixed(1)}%)`).join(', ');
    info(`${out.prefix}: ${written} tokens = ${parts}`);
  }
  dss.forEach((d) => d.close());
}
