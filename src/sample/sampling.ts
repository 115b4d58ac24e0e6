// Choosing the next token from a row of logits: the raw log-probability (log-softmax of the model's logits,
// what the trainer computes), and a draw from the processed distribution (temperature, min-p, top-k, top-p,
// in vLLM's order) with the sample's own RNG stream. Everything is computed in float64 from the float32 logits,
// in a fixed order, so a token depends only on the logits row and the stream: never on the other sequences.
import { nativeWith } from '../train/native.js';
import { Rng, type RngState } from '../util/rng.js';

export interface SamplingParams {
  /** 0 means greedy (argmax, ties to the lower id). */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 is off. */
  topP: number;
  /** Keep the k most likely tokens; 0 is off. */
  topK: number;
  /** Drop tokens whose probability is below minP x the top token's; 0 is off. */
  minP: number;
  /** Generated tokens at most (the context length may end a sequence earlier). */
  maxTokens: number;
  /** Stop before the first occurrence of any of these strings in the generated text. */
  stop: string[];
  /** Stop after generating any of these ids (the id is kept in `tokens`, its text is not in the completion). */
  stopTokenIds: number[];
  /** Do not stop at the tokenizer's end-of-text token (and chat end-of-turn). */
  ignoreEos: boolean;
  /** Samples per prompt. */
  n: number;
  seed: number;
}

export const NEUTRAL: Readonly<SamplingParams> = { temperature: 1, topP: 1, topK: 0, minP: 0, maxTokens: 256, stop: [], stopTokenIds: [], ignoreEos: false, n: 1, seed: 1 };

/** Problems with sampling parameters, in CLI words; empty when valid. */
export function checkParams(p: SamplingParams): string[] {
  const bad: string[] = [];
  if (!(p.temperature >= 0) || !Number.isFinite(p.temperature)) bad.push('temperature must be a finite number >= 0');
  if (!(p.topP > 0 && p.topP <= 1)) bad.push('top-p must be in (0, 1]');
  if (!Number.isInteger(p.topK) || p.topK < 0) bad.push('top-k must be an integer >= 0');
  if (!(p.minP >= 0 && p.minP <= 1)) bad.push('min-p must be in [0, 1]');
  if (!Number.isInteger(p.maxTokens) || p.maxTokens < 1) bad.push('max-tokens must be an integer >= 1');
  if (!Number.isInteger(p.n) || p.n < 1) bad.push('n (-n) must be an integer >= 1');
  if (!Number.isFinite(p.seed)) bad.push('seed must be a finite number');
  if (p.stop.some((s) => typeof s !== 'string' || s === '')) bad.push('stop strings must not be empty');
  if (p.stopTokenIds.some((t) => !Number.isInteger(t) || t < 0)) bad.push('stop-token-id values must be integers >= 0');
  return bad;
}

/** A 32-bit mix (murmur3's finaliser): a different stream for every (seed, stream, sample) triple. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The RNG of sample `sample` of the request in stream `stream` (the CLI uses the prompt's index) under `seed`:
 * its own xoshiro state, so its draws never depend on which sequences share the batch or in what order they run.
 */
export function sampleRng(seed: number, stream: number, sample: number): Rng {
  const lo = Math.floor(seed) >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const words = [lo, hi, stream >>> 0, Math.floor(stream / 4294967296) >>> 0, sample >>> 0];
  const state: number[] = [];
  let h = 0x5bd1e995;
  for (let i = 0; i < 4; i++) {
    for (const w of words) h = mix(h ^ Math.imul(w + i, 0x9e3779b1));
    h = mix(h + i + 1);
    state.push(h);
  }
  return new Rng(state as RngState);
}

export interface Choice {
  token: number;
  /** log softmax(logits)[token]: the model's distribution, untempered. */
  logprob: number;
  /** log of the token's probability in the distribution actually sampled from (0 when greedy). */
  samplingLogprob: number;
}

/**
 * Scratch space reused across calls (one per generator: sampling runs on one thread).
 *
 * A draw works on weights q_i = exp((logit_i - max) / temperature), one per id: a cut sets the weights of the
 * tokens it drops to 0, and the draw walks the ids in order, so no candidate list is built or sorted. Top-k and
 * top-p need the tokens in order of likelihood only around their cut: the weights are bucketed by (max - z) in
 * steps of 1/BUCKETS_PER_NAT, the bucket where the count (top-k) or mass (top-p) crosses the cut is found from the
 * bucket totals, and only that bucket is sorted. Every bucket above it is kept whole, so the kept set is the one a
 * full sort gives (for top-p, up to the rounding of the running sum, which a sort would add in another order).
 */
export class Sampler {
  private q = new Float64Array(0);
  private bucket = new Int32Array(0);

  private grow(v: number): void {
    if (this.q.length < v) {
      this.q = new Float64Array(v);
      this.bucket = new Int32Array(v);
    }
  }

  choose(logits: Float32Array, p: SamplingParams, rng: Rng): Choice {
    const V = logits.length;
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    const mx = logits[best];
    if (p.temperature === 0) {
      let s = 0;
      for (let i = 0; i < V; i++) s += Math.exp(logits[i] - mx);
      return { token: best, logprob: -Math.log(s), samplingLogprob: 0 };
    }
    this.grow(V);
    const q = this.q;
    const inv = 1 / p.temperature;
    // Raw normaliser (log-softmax of the untempered logits); at temperature 1 the weights are its terms.
    let raw = 0;
    if (p.temperature === 1) for (let i = 0; i < V; i++) raw += q[i] = Math.exp(logits[i] - mx);
    else
      for (let i = 0; i < V; i++) {
        const d = logits[i] - mx;
        raw += Math.exp(d);
        q[i] = Math.exp(d * inv);
      }
    const lse = mx + Math.log(raw);
    // min-p: p_i / p_max = q_i.
    if (p.minP > 0) for (let i = 0; i < V; i++) if (q[i] < p.minP) q[i] = 0;
    if (p.topK > 0 && p.topK < V) this.keepTopK(logits, mx, inv, V, p.topK);
    if (p.topP < 1) this.keepNucleus(logits, mx, inv, V, p.topP);
    let total = 0;
    for (let i = 0; i < V; i++) total += q[i];
    const u = rng.next() * total;
    let acc = 0;
    let pick = best;
    for (let i = 0; i < V; i++) {
      acc += q[i];
      if (u < acc) {
        pick = i;
        break;
      }
    }
    return { token: pick, logprob: logits[pick] - lse, samplingLogprob: Math.log(q[pick] / total) };
  }

  /** Bucket of every kept token (-1 for dropped ones) into this.bucket; returns the per-bucket totals of `what`. */
  private buckets(logits: Float32Array, mx: number, inv: number, V: number, what: 'count' | 'mass'): Float64Array {
    const q = this.q;
    const b = this.bucket;
    const totals = new Float64Array(NBUCKETS);
    for (let i = 0; i < V; i++) {
      if (q[i] === 0) {
        b[i] = -1;
        continue;
      }
      const k = Math.min(NBUCKETS - 1, Math.floor((mx - logits[i]) * inv * BUCKETS_PER_NAT));
      b[i] = k;
      totals[k] += what === 'count' ? 1 : q[i];
    }
    return totals;
  }

  /** Ids of bucket k, most likely first (ties to the lower id). */
  private sortedBucket(logits: Float32Array, V: number, k: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < V; i++) if (this.bucket[i] === k) ids.push(i);
    return ids.sort((a, c) => logits[c] - logits[a] || a - c);
  }

  /** Zero every weight but those of the k most likely kept tokens. */
  private keepTopK(logits: Float32Array, mx: number, inv: number, V: number, k: number): void {
    const counts = this.buckets(logits, mx, inv, V, 'count');
    let before = 0;
    let cut = 0;
    while (cut < NBUCKETS && before + counts[cut] < k) before += counts[cut++];
    if (cut === NBUCKETS) return; // fewer than k kept tokens: nothing to cut
    const keep = new Set(this.sortedBucket(logits, V, cut).slice(0, k - before));
    this.dropBeyond(cut, keep, V);
  }

  /** Zero every weight outside the smallest most-likely set holding topP of the kept mass (the crossing token stays). */
  private keepNucleus(logits: Float32Array, mx: number, inv: number, V: number, topP: number): void {
    const q = this.q;
    const mass = this.buckets(logits, mx, inv, V, 'mass');
    let total = 0;
    for (let k = 0; k < NBUCKETS; k++) total += mass[k];
    const want = topP * total;
    let before = 0;
    let cut = 0;
    while (cut < NBUCKETS - 1 && before + mass[cut] < want) before += mass[cut++];
    const keep = new Set<number>();
    let acc = before;
    for (const i of this.sortedBucket(logits, V, cut)) {
      keep.add(i);
      acc += q[i];
      if (acc >= want) break;
    }
    this.dropBeyond(cut, keep, V);
  }

  /** Zero the weights of buckets after `cut`, and of bucket `cut` except `keep`. */
  private dropBeyond(cut: number, keep: Set<number>, V: number): void {
    const q = this.q;
    const b = this.bucket;
    for (let i = 0; i < V; i++) if (b[i] > cut || (b[i] === cut && !keep.has(i))) q[i] = 0;
  }
}

/** Bucket width for top-k/top-p: 1/64 nat of (tempered) logit; past 32 nats below the top, one last bucket. */
const BUCKETS_PER_NAT = 64;
const NBUCKETS = 32 * BUCKETS_PER_NAT + 1;

/** native/sample.cc's entry point. */
interface SampleKernel {
  sampleRows(rows: Float32Array[], V: number, params: Float64Array, uniforms: Float64Array, tokens: Int32Array, logprobs: Float64Array): void;
}

let preferNative = true;

/**
 * Which sampler RowSampler runs: 'native' (native/sample.cc: Sampler.choose's arithmetic, the same bits, in one
 * call for all rows) where the addon exports it, else 'js'. `use` sets the preference (tests, benchmarks) and
 * returns the previous one.
 */
export function nativeSampling(use?: 'native' | 'js'): 'native' | 'js' {
  const was = preferNative && nativeWith<SampleKernel>('sampleRows') ? 'native' : 'js';
  if (use) preferNative = use === 'native';
  return was;
}

/** A decoding step's sampling: Sampler.choose for every row, through the native kernel where it is built. */
export class RowSampler {
  private readonly js = new Sampler();
  private params = new Float64Array(0);
  private uniforms = new Float64Array(0);
  private tokens = new Int32Array(0);
  private logprobs = new Float64Array(0);

  /** Row i: logits rows[i] (all of one length), params[i], drawing from rngs[i] (one draw unless greedy). */
  chooseAll(rows: Float32Array[], params: readonly SamplingParams[], rngs: readonly Rng[]): Choice[] {
    const n = rows.length;
    const k = preferNative ? nativeWith<SampleKernel>('sampleRows') : undefined;
    if (!k || n === 0) return rows.map((l, i) => this.js.choose(l, params[i], rngs[i]));
    if (this.tokens.length < n) {
      this.params = new Float64Array(4 * n);
      this.uniforms = new Float64Array(n);
      this.tokens = new Int32Array(n);
      this.logprobs = new Float64Array(2 * n);
    }
    for (let i = 0; i < n; i++) {
      const p = params[i];
      this.params[4 * i] = p.temperature;
      this.params[4 * i + 1] = p.topP;
      this.params[4 * i + 2] = p.minP;
      this.params[4 * i + 3] = p.topK;
      // Sampler.choose draws once, after the cuts, and only when not greedy: the same draw from the same stream.
      this.uniforms[i] = p.temperature === 0 ? 0 : rngs[i].next();
    }
    k.sampleRows(rows, rows[0].length, this.params, this.uniforms, this.tokens, this.logprobs);
    return rows.map((_, i) => ({ token: this.tokens[i], logprob: this.logprobs[2 * i], samplingLogprob: this.logprobs[2 * i + 1] }));
  }
}
