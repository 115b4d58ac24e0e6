// Eval metrics over per-question results: accuracy (greedy: sample 0), pass@k with the unbiased estimator
// of Chen et al. (2021), and maj@k (majority vote over k samples, answers grouped by the checker's
// equivalence, ties counted at their expectation), overall and per subject and level.
import { compactForm, normalizeAnswer } from '../checker/normalize.js';
import { parseNumber } from '../checker/numeric.js';
import { sameAnswer } from '../checker/equal.js';

export interface SampleResult {
  id: string;
  subject?: string;
  level?: string;
  extracted: (string | null)[];
  correct: boolean[];
  /**
   * Vote group of each sample (null: no answer): samples in one group gave the same answer by the checker's
   * equivalence. `eval run` computes them with the checker pool and stores them as "vote_groups"; when absent
   * they are computed here (voteGroups).
   */
  groups?: (number | null)[];
}

/** pass@k = 1 - C(n-c, k) / C(n, k): the chance that k samples drawn without replacement include a correct one. */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@${k} needs at least ${k} samples (have ${n})`);
  if (n - c < k) return 1;
  // Product form: numerically stable for large n.
  let p = 1;
  for (let i = n - c + 1; i <= n; i++) p *= 1 - k / i;
  return 1 - p;
}

/** The cheap key: answers with one normal form (or one plain-number value: \frac12, 0.5) are one answer outright. */
export function voteKey(a: string): string {
  const n = normalizeAnswer(a);
  const num = parseNumber(n);
  return num && Number.isFinite(num.value) ? `#${Number(num.value.toPrecision(12))}` : compactForm(n);
}

/**
 * Vote groups by the checker's equivalence: answers with one key are one group; then two groups whose first
 * answers the checker calls equal (either way round) merge, and merging is transitive (union-find over every
 * pair), so the groups do not depend on the order of the samples. `same` is the equivalence test (the
 * checker in this thread by default; `eval run` passes its worker pool, where a slow check times out).
 */
export async function voteGroupsAsync(extracted: (string | null)[], same: (a: string, b: string) => Promise<boolean> | boolean): Promise<(number | null)[]> {
  const keys: string[] = [];
  const rep: string[] = [];
  const keyOf = extracted.map((a) => {
    if (a === null) return null;
    const k = voteKey(a);
    let i = keys.indexOf(k);
    if (i < 0) {
      i = keys.push(k) - 1;
      rep.push(a);
    }
    return i;
  });
  const parent = keys.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      if (find(i) === find(j)) continue;
      if (await same(rep[i]!, rep[j]!)) parent[find(j)] = find(i);
    }
  }
  // Group ids: the smallest key index of the group (keys are numbered by first appearance).
  return keyOf.map((k) => (k === null ? null : find(k)));
}

/** voteGroupsAsync with the checker in this thread. */
export function voteGroups(extracted: (string | null)[]): (number | null)[] {
  const keys = new Map<string, number>();
  const rep: string[] = [];
  const keyOf = extracted.map((a) => {
    if (a === null) return null;
    const k = voteKey(a);
    let i = keys.get(k);
    if (i === undefined) {
      i = rep.push(a) - 1;
      keys.set(k, i);
    }
    return i;
  });
  const parent = rep.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < rep.length; i++) {
    for (let j = i + 1; j < rep.length; j++) {
      if (find(i) !== find(j) && sameAnswer(rep[i]!, rep[j]!)) parent[find(j)] = find(i);
    }
  }
  return keyOf.map((k) => (k === null ? null : find(k)));
}

/**
 * Majority vote over the samples `idx`: the group with the most votes wins. A group's grade is the verdict of
 * most of its members (over all samples of the question; 1/2 when they split evenly, which only a grader
 * stricter than the equivalence can cause). Ties between groups are not broken by sample order: the vote is
 * worth the mean grade of the tied groups, its expectation under a uniformly random tie-break. Samples
 * without an answer do not vote; with no votes at all the vote is wrong (0).
 */
export function majorityVote(groups: (number | null)[], correct: boolean[], idx: number[]): number {
  const count = new Map<number, number>();
  for (const i of idx) {
    const g = groups[i];
    if (g === null || g === undefined) continue;
    count.set(g, (count.get(g) ?? 0) + 1);
  }
  if (!count.size) return 0;
  const top = Math.max(...count.values());
  const winners = [...count.entries()].filter(([, n]) => n === top).map(([g]) => g);
  let sum = 0;
  for (const g of winners) {
    let yes = 0;
    let no = 0;
    groups.forEach((x, i) => {
      if (x === g) {
        if (correct[i]) yes++;
        else no++;
      }
    });
    sum += yes > no ? 1 : yes < no ? 0 : 0.5;
  }
  return sum / winners.length;
}

/** majorityVote with groups computed from the answers (the checker in this thread). */
export function majorityCorrect(extracted: (string | null)[], correct: boolean[], idx: number[]): number {
  return majorityVote(voteGroups(extracted), correct, idx);
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Every k-subset of 0..n-1, in lexicographic order. */
function* subsets(n: number, k: number): Generator<number[]> {
  const idx = [...Array(k).keys()];
  for (;;) {
    yield idx.slice();
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

/**
 * maj@k: the expected majority-vote correctness of k samples drawn from the n. Exact (the mean over every
 * k-subset) when there are at most `rounds` subsets, else the mean over `rounds` seeded random subsets.
 */
export function majAtK(r: SampleResult, k: number, rounds: number, seed: number): number {
  const n = r.correct.length;
  if (k > n) throw new RangeError(`maj@${k} needs at least ${k} samples (have ${n})`);
  const all = [...Array(n).keys()];
  const groups = r.groups ?? voteGroups(r.extracted);
  if (binom(n, k) <= rounds) {
    let hits = 0;
    let count = 0;
    for (const sub of subsets(n, k)) {
      count++;
      hits += majorityVote(groups, r.correct, sub);
    }
    return hits / count;
  }
  let s = (seed ^ 0x5bd1e995) >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  let hits = 0;
  for (let t = 0; t < rounds; t++) {
    const idx = all.slice();
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rand() * (n - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    hits += majorityVote(groups, r.correct, idx.slice(0, k));
  }
  return hits / rounds;
}

export interface Metrics {
  questions: number;
  samples: number;
  /** Sample 0 correct (greedy accuracy when sampled at temperature 0). */
  accuracy: number;
  /** Mean correctness over all samples. */
  mean_accuracy: number;
  pass_at_k: Record<string, number>;
  maj_at_k: Record<string, number>;
}

export interface Summary extends Metrics {
  by_subject: Record<string, Metrics>;
  by_level: Record<string, Metrics>;
}

/** K values 1, 2, 4, ... up to n, plus n itself. */
export function defaultKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

export function metrics(rs: SampleResult[], ks: number[], seed = 1, rounds = 256): Metrics {
  const out: Metrics = { questions: rs.length, samples: 0, accuracy: 0, mean_accuracy: 0, pass_at_k: {}, maj_at_k: {} };
  if (!rs.length) return out;
  let first = 0;
  let mean = 0;
  for (const r of rs) {
    out.samples += r.correct.length;
    if (r.correct[0]) first++;
    mean += r.correct.length ? r.correct.filter(Boolean).length / r.correct.length : 0;
  }
  out.accuracy = first / rs.length;
  out.mean_accuracy = mean / rs.length;
  const nMin = Math.min(...rs.map((r) => r.correct.length));
  for (const k of ks) {
    if (k > nMin) continue;
    let p = 0;
    let m = 0;
    for (const r of rs) {
      p += passAtK(r.correct.length, r.correct.filter(Boolean).length, k);
      m += majAtK(r, k, rounds, seed);
    }
    out.pass_at_k[k] = p / rs.length;
    out.maj_at_k[k] = m / rs.length;
  }
  return out;
}

function groupBy(rs: SampleResult[], key: (r: SampleResult) => string | undefined): Map<string, SampleResult[]> {
  const m = new Map<string, SampleResult[]>();
  for (const r of rs) {
    const k = key(r);
    if (k === undefined) continue;
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
}

export function summarize(rs0: SampleResult[], ks: number[], seed = 1): Summary {
  // Vote groups once per question (not once per subject/level table).
  const rs = rs0.map((r) => (r.groups ? r : { ...r, groups: voteGroups(r.extracted) }));
  const by = (f: (r: SampleResult) => string | undefined) =>
    Object.fromEntries([...groupBy(rs, f)].map(([k, g]) => [k, metrics(g, ks, seed)]));
  return { ...metrics(rs, ks, seed), by_subject: by((r) => r.subject), by_level: by((r) => r.level) };
}

const pct = (x: number | undefined) => (x === undefined ? '-' : (100 * x).toFixed(1));

/** A readable table: one row overall, then per subject and per level. */
export function formatTable(s: Summary, title: string): string {
  const ks = Object.keys(s.pass_at_k).map(Number);
  const head = ['', 'n', 'acc', ...ks.flatMap((k) => (k === 1 ? [] : [`maj@${k}`, `pass@${k}`]))];
  const row = (name: string, m: Metrics) => [name, String(m.questions), pct(m.accuracy), ...ks.flatMap((k) => (k === 1 ? [] : [pct(m.maj_at_k[k]), pct(m.pass_at_k[k])]))];
  const rows = [row(title, s)];
  for (const [k, m] of Object.entries(s.by_subject)) rows.push(row(`  ${k}`, m));
  for (const [k, m] of Object.entries(s.by_level)) rows.push(row(`  level ${k}`, m));
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}
