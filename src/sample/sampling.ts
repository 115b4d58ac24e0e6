// Choosing the next token from a row of logits: the raw log-probability (log-softmax of the model's logits,
// what the trainer computes), and a draw from the processed distribution (temperature, min-p, top-k, top-p,
// in vLLM's order) with the sample's own RNG stream. Everything is computed in float64 from the float32 logits,
// in a fixed order, so a token depends only on the logits row and the stream: never on the other sequences.
import { Rng, type RngState } from '../train/rng.js';

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

/** Scratch space reused across calls (one per generator: sampling runs on one thread). */
export class Sampler {
  private z = new Float64Array(0);
  private idx = new Int32Array(0);

  private grow(v: number): void {
    if (this.z.length < v) {
      this.z = new Float64Array(v);
      this.idx = new Int32Array(v);
    }
  }

  choose(logits: Float32Array, p: SamplingParams, rng: Rng): Choice {
    const V = logits.length;
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    const mx = logits[best];
    let s = 0;
    for (let i = 0; i < V; i++) s += Math.exp(logits[i] - mx);
    const lse = mx + Math.log(s);
    if (p.temperature === 0) return { token: best, logprob: logits[best] - lse, samplingLogprob: 0 };
    const { token, samplingLogprob } = this.draw(logits, best, p, rng);
    return { token, logprob: logits[token] - lse, samplingLogprob };
  }

  /** Temperature, then min-p, top-k, top-p (vLLM's order), then one uniform draw over the survivors. */
  private draw(logits: Float32Array, best: number, p: SamplingParams, rng: Rng): { token: number; samplingLogprob: number } {
    const V = logits.length;
    this.grow(V);
    const z = this.z;
    const idx = this.idx;
    const zmax = logits[best] / p.temperature;
    // Candidates are kept in idx[0..n), in id order until top-p sorts them.
    let n = 0;
    const floor = p.minP > 0 ? zmax + Math.log(p.minP) : -Infinity;
    for (let i = 0; i < V; i++) {
      const zi = logits[i] / p.temperature;
      z[i] = zi;
      if (zi >= floor) idx[n++] = i;
    }
    if (p.topK > 0 && p.topK < n) n = keepTopK(z, idx, n, p.topK, zmax);
    let total = 0;
    for (let j = 0; j < n; j++) total += Math.exp(z[idx[j]] - zmax);
    if (p.topP < 1) {
      n = nucleus(z, idx, n, zmax, total, p.topP);
      total = 0;
      for (let j = 0; j < n; j++) total += Math.exp(z[idx[j]] - zmax);
    }
    const u = rng.next() * total;
    let acc = 0;
    let pick = idx[n - 1];
    for (let j = 0; j < n; j++) {
      acc += Math.exp(z[idx[j]] - zmax);
      if (u < acc) {
        pick = idx[j];
        break;
      }
    }
    return { token: pick, samplingLogprob: z[pick] - zmax - Math.log(total) };
  }
}

/** Descending value, then ascending id: the one order every cut uses, so ties are broken the same way everywhere. */
function byValue(z: Float64Array): (a: number, b: number) => number {
  return (a, b) => z[b] - z[a] || a - b;
}

/** Candidates of idx[0..n) with z >= t, most likely first: always a prefix of the full sorted order. */
function above(z: Float64Array, idx: Int32Array, n: number, t: number): number[] {
  const part: number[] = [];
  for (let j = 0; j < n; j++) if (z[idx[j]] >= t) part.push(idx[j]);
  return part.sort(byValue(z));
}

/** Thresholds below the top logit to try, widening, so that only a few candidates are sorted per token. */
const DROPS = [8, 16, 32, 64, Infinity];

/** Keep the k best of idx[0..n) (ties to the lower id), in id order. */
function keepTopK(z: Float64Array, idx: Int32Array, n: number, k: number, zmax: number): number {
  for (const drop of DROPS) {
    const part = above(z, idx, n, zmax - drop);
    if (part.length >= k) {
      idx.set(part.slice(0, k).sort((a, b) => a - b));
      return k;
    }
  }
  return n;
}

/**
 * The smallest prefix of the candidates, most likely first, whose mass reaches topP (the token that crosses it is
 * kept). Sorting 100K candidates per token is slow, so only those above a threshold are sorted, and the threshold
 * is lowered until they hold enough mass: a set {z >= t} is always a prefix of the full order, so the result is
 * the same as sorting everything.
 */
function nucleus(z: Float64Array, idx: Int32Array, n: number, zmax: number, total: number, topP: number): number {
  const want = topP * total;
  let part: number[] = [];
  for (const drop of DROPS) {
    part = above(z, idx, n, zmax - drop);
    let acc = 0;
    for (let j = 0; j < part.length; j++) {
      acc += Math.exp(z[part[j]] - zmax);
      if (acc >= want) {
        idx.set(part.slice(0, j + 1));
        return j + 1;
      }
    }
  }
  // Rounding can leave the full sum a hair under want: then every candidate stays.
  idx.set(part);
  return part.length;
}
