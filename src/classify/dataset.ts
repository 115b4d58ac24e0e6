// The training set, counted into a fastText dictionary and encoded once into flat shared arrays
// (input rows and label ids per example), so worker threads read it without copies and no epoch
// re-tokenises text. fastText re-reads its file every epoch instead; the encoding is the same.
import { UsageError } from '../cli/errors.js';
import { Dictionary, EOS, Encoder, TYPE_LABEL, TYPE_WORD } from './dictionary.js';
import type { Args } from './args.js';
import type { Example } from './examples.js';
import type { TrainSet } from './sgd.js';

const MAX_VOCAB_SIZE = 30000000;

/** Token counts in first-seen order; fastText's Dictionary::add/threshold. */
export class DictBuilder {
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [];
  private readonly counts: number[] = [];
  private ntokens = 0;
  private minThreshold = 1;

  constructor(private readonly args: Args) {}

  private add(w: string): void {
    this.ntokens++;
    const id = this.ids.get(w);
    if (id !== undefined) this.counts[id]++;
    else {
      this.ids.set(w, this.words.length);
      this.words.push(w);
      this.counts.push(1);
      // fastText prunes rare words while reading once the table is 75% full
      if (this.words.length > 0.75 * MAX_VOCAB_SIZE) this.prune(++this.minThreshold, this.minThreshold);
    }
  }

  /** Count one line: fastText sees labels, then words, then "</s>" (order does not change counts). */
  addExample(e: Example): void {
    for (const l of e.labels) this.add(l);
    for (const w of e.words) this.add(w);
    this.add(EOS);
  }

  private isLabel(w: string): boolean {
    return w.startsWith(this.args.label);
  }

  private prune(minWord: number, minLabel: number): void {
    const keep: number[] = [];
    for (let i = 0; i < this.words.length; i++) {
      const min = this.isLabel(this.words[i]) ? minLabel : minWord;
      if (this.counts[i] >= min) keep.push(i);
    }
    const words = keep.map((i) => this.words[i]);
    const counts = keep.map((i) => this.counts[i]);
    this.words.length = 0;
    this.counts.length = 0;
    this.ids.clear();
    words.forEach((w, i) => {
      this.ids.set(w, i);
      this.words.push(w);
      this.counts.push(counts[i]);
    });
  }

  /** Apply minCount/minCountLabel and sort (words first, by decreasing count; ties keep first-seen order). */
  build(): Dictionary {
    this.prune(this.args.minCount, this.args.minCountLabel);
    const order = this.words.map((_, i) => i);
    const label = order.map((i) => (this.isLabel(this.words[i]) ? TYPE_LABEL : TYPE_WORD));
    order.sort((a, b) => label[a] - label[b] || this.counts[b] - this.counts[a] || a - b);
    const types = Uint8Array.from(order.map((i) => label[i]));
    if (!order.length || types.every((t) => t === TYPE_LABEL)) throw new UsageError('empty vocabulary: try a smaller --minCount');
    if (!types.some((t) => t === TYPE_LABEL)) throw new UsageError('no labels left: try a smaller --minCountLabel');
    return new Dictionary(
      order.map((i) => this.words[i]),
      order.map((i) => this.counts[i]),
      types,
      this.ntokens,
      this.args,
    );
  }
}

/** Encoded examples in SharedArrayBuffer-backed arrays, ready to hand to worker threads. */
export interface Dataset {
  n: number;
  rowStart: Int32Array; // n + 1 offsets into rows
  rows: Int32Array;
  labelStart: Int32Array; // n + 1 offsets into labels
  labels: Int32Array;
  /** Tokens fastText counts for the example (labels, words, "</s>"): drives the learning-rate schedule. */
  ntok: Int32Array;
}

function shared(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
}

class Grow {
  a = new Int32Array(1 << 16);
  n = 0;
  push(v: ArrayLike<number>, len: number): void {
    if (this.n + len > this.a.length) {
      const b = new Int32Array(Math.max(this.a.length * 2, this.n + len));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
    for (let i = 0; i < len; i++) this.a[this.n + i] = v[i];
    this.n += len;
  }
  toShared(): Int32Array {
    const s = shared(this.n);
    s.set(this.a.subarray(0, this.n));
    return s;
  }
}

/** Encodes examples one at a time; examples left with no label or no input row are dropped, as fastText skips them. */
export class DatasetBuilder {
  private readonly enc = new Encoder();
  private readonly rows = new Grow();
  private readonly labels = new Grow();
  private readonly rowStart = new Grow();
  private readonly labelStart = new Grow();
  private readonly ntok = new Grow();
  dropped = 0;

  constructor(private readonly dict: Dictionary) {
    this.rowStart.push([0], 1);
    this.labelStart.push([0], 1);
  }

  add(e: Example): void {
    const lab = this.dict.labelIds(e.labels);
    const n = this.dict.encode(e.words, this.enc);
    if (!lab.length || !n) {
      this.dropped++;
      return;
    }
    this.rows.push(this.enc.rows, n);
    this.labels.push(lab, lab.length);
    this.rowStart.push([this.rows.n], 1);
    this.labelStart.push([this.labels.n], 1);
    this.ntok.push([e.labels.length + e.words.length + 1], 1);
  }

  finish(): { data: Dataset; dropped: number } {
    const data = {
      n: this.ntok.n,
      rowStart: this.rowStart.toShared(),
      rows: this.rows.toShared(),
      labelStart: this.labelStart.toShared(),
      labels: this.labels.toShared(),
      ntok: this.ntok.toShared(),
    };
    return { data, dropped: this.dropped };
  }
}

export function encodeExamples(dict: Dictionary, examples: Example[]): { data: Dataset; dropped: number } {
  const b = new DatasetBuilder(dict);
  for (const e of examples) b.add(e);
  return b.finish();
}

/**
 * The set as training reads it (see TrainSet): each example's distinct rows in first-seen order with
 * their repeat counts, written into `rows` and `weights` (at least data.rows.length long: the caller
 * places them, in the kernels' memory or in SharedArrayBuffers).
 */
export function toTrainSet(data: Dataset, rows: Int32Array, weights: Float32Array): TrainSet {
  const rowStart = shared(data.n + 1);
  const nrows = shared(data.n);
  // open addressing over one example's rows, reused: slot -> row + 1 (0 empty), and its output position
  let keys = new Int32Array(1024);
  let at = new Int32Array(1024);
  let m = 0;
  for (let ex = 0; ex < data.n; ex++) {
    const s = data.rowStart[ex];
    const e = data.rowStart[ex + 1];
    nrows[ex] = e - s;
    rowStart[ex] = m;
    if (keys.length < 2 * (e - s)) {
      let cap = keys.length;
      while (cap < 2 * (e - s)) cap *= 2;
      keys = new Int32Array(cap);
      at = new Int32Array(cap);
    }
    const mask = keys.length - 1;
    const first = m;
    for (let i = s; i < e; i++) {
      const r = data.rows[i];
      let slot = Math.imul(r, 0x9e3779b1) & mask;
      while (keys[slot] !== 0 && keys[slot] !== r + 1) slot = (slot + 1) & mask;
      if (keys[slot] === 0) {
        keys[slot] = r + 1;
        at[slot] = m;
        rows[m] = r;
        weights[m++] = 1;
      } else weights[at[slot]]++;
    }
    // empty the table through the rows just written (cheaper than clearing it whole)
    for (let j = first; j < m; j++) {
      let slot = Math.imul(rows[j], 0x9e3779b1) & mask;
      while (keys[slot] !== rows[j] + 1) slot = (slot + 1) & mask;
      keys[slot] = 0;
    }
  }
  rowStart[data.n] = m;
  return {
    n: data.n,
    rowStart,
    rows: rows.subarray(0, m),
    weights: weights.subarray(0, m),
    nrows,
    labelStart: data.labelStart,
    labels: data.labels,
    ntok: data.ntok,
  };
}
