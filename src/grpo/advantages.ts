// From rewards to advantages, the part of GRPO that replaces PPO's value model: each question's G outputs are a
// group, and an output is judged against its own group.
//
// Outcome supervision (DeepSeekMath 4.1.2): A_i = (r_i - mean(r)) / std(r) over the group, the same for every token
// of output i. Process supervision (4.1.3): every step of every output of the group has a reward; they are
// normalised together (mean and std over all steps of the group), and a token's advantage is the sum of the
// normalised rewards of the steps that end at or after it (or their minimum, --step-aggregation min).
//
// std is the sample standard deviation (n - 1), as torch.std computes it in TRL and verl, and the denominator gets
// +1e-4 (TRL's) so a group whose rewards are all equal gets advantage 0 rather than 0/0. Rewards of null (the
// checker could not judge, the step scorer gave none) are left out of every statistic and get no advantage.

export const STD_SCOPES = ['group', 'batch', 'none'] as const;
/** Which rewards the std that divides the advantages is taken over: the group's, the whole step's, or none. */
export type StdScope = (typeof STD_SCOPES)[number];

export const STEP_AGGREGATIONS = ['sum', 'min'] as const;
export type StepAggregation = (typeof STEP_AGGREGATIONS)[number];

export interface AdvantageOptions {
  scope: StdScope;
  /** Subtract the group mean (false: the reward itself is the advantage, as online RFT). */
  baseline: boolean;
  /** Added to the std before dividing. */
  eps: number;
}

export const STD_EPS = 1e-4;

function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  if (!n) return { mean: 0, std: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: 0 };
  const ss = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

const present = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null);

/** Outcome advantages of a step's rewards, in groups of G consecutive samples; null stays null. */
export function outcomeAdvantages(rewards: (number | null)[], G: number, o: AdvantageOptions): (number | null)[] {
  if (rewards.length % G !== 0) throw new RangeError(`${rewards.length} rewards are not groups of ${G}`);
  const batch = meanStd(present(rewards));
  const out: (number | null)[] = [];
  for (let g = 0; g < rewards.length; g += G) {
    const group = rewards.slice(g, g + G);
    const s = meanStd(present(group));
    const base = o.baseline ? s.mean : 0;
    const div = o.scope === 'none' ? 1 : (o.scope === 'batch' ? batch.std : s.std) + o.eps;
    for (const r of group) out.push(r === null ? null : (r - base) / div);
  }
  return out;
}

/** A group is informative when its rewards differ (at least two present, not all equal): else every advantage is 0. */
export function informative(rewards: (number | null)[]): boolean {
  const xs = present(rewards);
  return xs.length >= 2 && xs.some((x) => x !== xs[0]);
}

/** One output under process supervision: the reward of each step and the index of the step's last token. */
export interface StepScores {
  /** Step rewards, in order; null: the whole output is skipped. */
  rewards: number[] | null;
  /** Index (into the output's tokens) of each step's last token, increasing; the last is the output's last token. */
  ends: number[];
  /** The output's token count. */
  length: number;
}

/**
 * Process advantages of the outputs of one step, in groups of G: per output, an advantage per token (null for a
 * skipped output). `batchStd` is the std over all step rewards of the step (scope batch).
 */
export function processAdvantages(samples: StepScores[], G: number, o: AdvantageOptions & { aggregation: StepAggregation }): (Float64Array | null)[] {
  if (samples.length % G !== 0) throw new RangeError(`${samples.length} outputs are not groups of ${G}`);
  for (const s of samples) {
    if (s.rewards && s.rewards.length !== s.ends.length) throw new RangeError(`${s.rewards.length} step rewards for ${s.ends.length} steps`);
    for (let j = 1; j < s.ends.length; j++) if (!(s.ends[j] > s.ends[j - 1])) throw new RangeError('step ends must increase');
  }
  const all = samples.flatMap((s) => s.rewards ?? []);
  const batch = meanStd(all);
  const out: (Float64Array | null)[] = [];
  for (let g = 0; g < samples.length; g += G) {
    const group = samples.slice(g, g + G);
    const s = meanStd(group.flatMap((x) => x.rewards ?? []));
    const base = o.baseline ? s.mean : 0;
    const div = o.scope === 'none' ? 1 : (o.scope === 'batch' ? batch.std : s.std) + o.eps;
    for (const x of group) {
      if (!x.rewards) {
        out.push(null);
        continue;
      }
      const norm = x.rewards.map((r) => (r - base) / div);
      const adv = new Float64Array(x.length);
      // Walk back from the last step: the steps ending at or after token t are the steps j with ends[j] >= t.
      let j = norm.length - 1;
      let acc = o.aggregation === 'sum' ? 0 : Infinity;
      for (let t = x.length - 1; t >= 0; t--) {
        while (j >= 0 && x.ends[j] >= t) {
          acc = o.aggregation === 'sum' ? acc + norm[j] : Math.min(acc, norm[j]);
          j--;
        }
        adv[t] = acc === Infinity ? 0 : acc;
      }
      out.push(adv);
    }
  }
  return out;
}

/**
 * DAPO's soft overlong punishment: 0 up to maxTokens - buffer tokens, then falling linearly to -1 at maxTokens
 * (and -1 beyond). Added to the reward.
 */
export function overlongPenalty(length: number, maxTokens: number, buffer: number): number {
  if (buffer <= 0) return 0;
  const free = maxTokens - buffer;
  if (length <= free) return 0;
  if (length <= maxTokens) return (free - length) / buffer;
  return -1;
}

/** "\n\n" (a blank line, possibly holding spaces) or a literal marker. */
export type StepSeparator = { kind: 'blank-line' } | { kind: 'marker'; text: string };

/**
 * The steps of an output from its tokens' bytes: a step ends with a separator (included in it), and the output's
 * last token ends the last step. Returns the index of each step's last token (a token holding several separators
 * ends one step).
 */
export function stepEnds(tokenBytes: Uint8Array[], sep: StepSeparator): number[] {
  const n = tokenBytes.length;
  if (!n) return [];
  // Byte b belongs to the token whose cumulative end first exceeds it.
  const ends: number[] = [];
  let total = 0;
  for (const b of tokenBytes) ends.push((total += b.length));
  let text = '';
  for (const b of tokenBytes) for (const x of b) text += String.fromCharCode(x);
  const re = sep.kind === 'blank-line' ? /\n[ \t\r]*\n(?:[ \t\r]*\n)*/g : new RegExp(escapeRegExp(Buffer.from(sep.text, 'utf8').toString('latin1')), 'g');
  const out: number[] = [];
  let tok = 0;
  let after = 0;
  for (const m of text.matchAll(re)) {
    const last = m.index + m[0].length - 1;
    while (ends[tok] <= last) tok++;
    if (!out.length || out[out.length - 1] < tok) out.push(tok);
    after = m.index + m[0].length;
  }
  // What follows the last separator is the last step; only white space or byte-less tokens (an end-of-text) join
  // the step before instead of making one of their own.
  if (out.length && out[out.length - 1] < n - 1 && !text.slice(after).trim()) out[out.length - 1] = n - 1;
  else if (!out.length || out[out.length - 1] < n - 1) out.push(n - 1);
  return out;
}

/** The text of each step (tokens after the previous step's end, through its own). */
export function stepTexts(tokenBytes: Uint8Array[], ends: number[]): string[] {
  const dec = new TextDecoder();
  let from = 0;
  return ends.map((e) => {
    const text = dec.decode(Buffer.concat(tokenBytes.slice(from, e + 1)));
    from = e + 1;
    return text;
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
