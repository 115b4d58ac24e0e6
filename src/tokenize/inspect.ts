// `mathpipe tokenize inspect`: what is in a token dataset: sizes, document length histogram, vocabulary
// use, most frequent tokens and decoded samples. Reads .bin in windows, so memory stays flat.
import { DataError } from '../cli/errors.js';
import { IndexedDataset } from '../dataset/indexed.js';
import { Rng } from '../util/rng.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';
import { readMeta } from './meta.js';

export interface InspectArgs {
  prefix: string;
  tokenizer?: string;
  json: boolean;
  samples: number;
  sampleTokens: number;
  top: number;
  seed: number;
}

export interface Inspection {
  prefix: string;
  dtype: string;
  tokenizer: string | null;
  documents: number;
  tokens: number;
  length: { mean: number; median: number; p90: number; min: number; max: number };
  /** Document lengths in power-of-two buckets: [lo, hi) tokens. */
  histogram: { lo: number; hi: number; documents: number }[];
  vocab: { size: number | null; used: number; fraction: number | null; max_id: number };
  eos: { id: number; count: number; documents_ending_with_eos: number } | null;
  top_tokens: { id: number; count: number; text: string | null }[];
  samples: { document: number; tokens: number; text: string | null; ids: number[] }[];
}

function quantile(sorted: Int32Array, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

export function inspectDataset(ds: IndexedDataset, tok: Tokenizer | null, a: Omit<InspectArgs, 'prefix' | 'json' | 'tokenizer'>): Inspection {
  const counts = new Float64Array(tok ? tok.vocabSize : 1 << 17);
  const overflow = new Map<number, number>();
  let maxId = -1;
  const WINDOW = 1 << 20;
  // Documents are contiguous in .bin, so document ends are running sums of the lengths.
  let doc = 0;
  let docEnd = ds.numSequences ? ds.lengths[0] : 0;
  let endingWithEos = 0;
  for (let start = 0; start < ds.numTokens; start += WINDOW) {
    const w = ds.window(start, Math.min(WINDOW, ds.numTokens - start));
    while (doc < ds.numSequences && docEnd <= start + w.length) {
      if (tok && ds.lengths[doc] > 0 && w[docEnd - 1 - start] === tok.eos) endingWithEos++;
      doc++;
      if (doc < ds.numSequences) docEnd += ds.lengths[doc];
    }
    for (let i = 0; i < w.length; i++) {
      const id = w[i];
      if (id > maxId) maxId = id;
      if (id < counts.length) counts[id]++;
      else overflow.set(id, (overflow.get(id) ?? 0) + 1);
    }
  }
  if (tok && maxId >= tok.vocabSize) throw new DataError(`${ds.prefix}.bin`, `token id ${maxId} is outside the ${tok.vocabSize}-id vocabulary of ${tok.name}: wrong tokenizer?`);
  let used = overflow.size;
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) used++;
  const all: [number, number][] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) all.push([i, counts[i]]);
  for (const e of overflow) all.push(e);
  all.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const text = (ids: ArrayLike<number>) => (tok ? tok.decode(ids) : null);

  const lengths = Int32Array.from(ds.lengths).sort();
  const histogram: Inspection['histogram'] = [];
  for (let lo = 0, hi = 1; lo <= (lengths.at(-1) ?? 0); lo = hi, hi *= 2) {
    let n = 0;
    for (const l of ds.lengths) if (l >= lo && l < hi) n++;
    if (n) histogram.push({ lo, hi, documents: n });
  }
  const eos: Inspection['eos'] = tok ? { id: tok.eos, count: counts[tok.eos] ?? 0, documents_ending_with_eos: endingWithEos } : null;
  const rng = new Rng(a.seed);
  const picks = new Set<number>();
  while (picks.size < Math.min(a.samples, ds.numSequences)) picks.add(picks.size === 0 ? 0 : rng.int(ds.numSequences));
  const samples = [...picks].map((d) => {
    const seq = ds.sequence(d);
    const ids = Array.from(seq.subarray(0, a.sampleTokens));
    return { document: d, tokens: seq.length, text: text(ids), ids };
  });
  const sum = lengths.reduce((x, y) => x + y, 0);
  return {
    prefix: ds.prefix,
    dtype: ds.dtype,
    tokenizer: tok ? tok.spec : null,
    documents: ds.numSequences,
    tokens: ds.numTokens,
    length: {
      mean: ds.numSequences ? sum / ds.numSequences : 0,
      median: quantile(lengths, 0.5),
      p90: quantile(lengths, 0.9),
      min: lengths[0] ?? 0,
      max: lengths.at(-1) ?? 0,
    },
    histogram,
    vocab: { size: tok ? tok.vocabSize : null, used, fraction: tok ? used / tok.vocabSize : null, max_id: maxId },
    eos,
    top_tokens: all.slice(0, a.top).map(([id, count]) => ({ id, count, text: text([id]) })),
    samples,
  };
}

export function formatInspection(r: Inspection): string {
  const out: string[] = [];
  out.push(`dataset    ${r.prefix}  (${r.dtype}${r.tokenizer ? `, tokenizer ${r.tokenizer}` : ''})`);
  out.push(`documents  ${r.documents}`);
  out.push(`tokens     ${r.tokens}`);
  const L = r.length;
  out.push(`length     mean ${L.mean.toFixed(1)}  median ${L.median}  p90 ${L.p90}  min ${L.min}  max ${L.max}`);
  out.push(`vocab      ${r.vocab.used} ids used` + (r.vocab.size ? ` of ${r.vocab.size} (${(100 * r.vocab.fraction!).toFixed(1)}%)` : '') + `, max id ${r.vocab.max_id}`);
  if (r.eos) out.push(`eos        id ${r.eos.id}: ${r.eos.count} times, ${r.eos.documents_ending_with_eos} of ${r.documents} documents end with it`);
  out.push('', 'length histogram (tokens)');
  const peak = Math.max(1, ...r.histogram.map((h) => h.documents));
  for (const h of r.histogram) out.push(`  ${`[${h.lo}, ${h.hi})`.padEnd(18)} ${String(h.documents).padStart(9)}  ${'#'.repeat(Math.ceil((40 * h.documents) / peak))}`);
  out.push('', 'most frequent tokens');
  for (const t of r.top_tokens) out.push(`  ${String(t.id).padStart(7)} ${String(t.count).padStart(10)}  ${t.text === null ? '' : JSON.stringify(t.text)}`);
  for (const s of r.samples) {
    out.push('', `sample: document ${s.document} (${s.tokens} tokens${s.ids.length < s.tokens ? `, first ${s.ids.length} shown` : ''})`);
    out.push(s.text ?? s.ids.join(' '));
  }
  return out.join('\n') + '\n';
}

export async function run(a: InspectArgs): Promise<void> {
  const ds = IndexedDataset.open(a.prefix);
  const spec = a.tokenizer ?? readMeta(ds.prefix)?.tokenizer ?? undefined;
  // -t none: ids only, for datasets whose tokenizer is not at hand.
  const tok = spec && spec !== 'none' ? loadTokenizer(spec) : null;
  try {
    const r = inspectDataset(ds, tok, a);
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatInspection(r));
  } finally {
    ds.close();
    tok?.free();
  }
}
