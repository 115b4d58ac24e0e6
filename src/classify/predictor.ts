// Label probabilities for encoded lines, computed as fastText computes them (softmax over the output
// layer; table sigmoids for one-vs-all and negative sampling; path products for hierarchical softmax).
// Speed: the hidden vector is the mean of the input rows and every output is linear in it, so each
// input row's dot products with the output rows can be computed once and cached; a document then
// costs a few additions per token instead of `dim` multiply-adds. Used only when there are fewer output
// rows than dimensions and both matrices are dense (the cache must be dropped if the model changes).
// Each row's projection is computed on first use, so start-up costs nothing.
import { DenseMatrix } from './matrix.js';
import type { FastTextModel } from './modelfile.js';
import { computeOutput } from './output.js';
import { stdLog } from './tables.js';
import { buildTree, type HsTree } from './tree.js';

const f = Math.fround;

export class Predictor {
  readonly nlabels: number;
  private readonly nout: number;
  private readonly hidden: Float32Array;
  private readonly logits: Float64Array;
  private proj: Float32Array | null = null;
  private projDone: Uint8Array | null = null;
  private readonly tree: HsTree | null;

  constructor(
    readonly model: FastTextModel,
    /** Projection cache: undefined decides by shape; true/false force it (tests compare both paths). */
    opts: { cache?: boolean } = {},
  ) {
    const { args, dict, input, output } = model;
    this.nlabels = dict.nlabels;
    this.nout = output.rows;
    this.hidden = new Float32Array(args.dim);
    this.logits = new Float64Array(this.nout);
    this.tree = args.loss === 'hs' ? buildTree(dict.labelCounts()) : null;
    // worth it when a row has far fewer outputs than dimensions; bounded so the cache stays small
    const worth = this.nout * 4 <= args.dim && input.rows * this.nout <= 1 << 27;
    if ((opts.cache ?? worth) && input instanceof DenseMatrix && output instanceof DenseMatrix) {
      this.proj = new Float32Array(input.rows * this.nout);
      this.projDone = new Uint8Array(input.rows);
    }
  }

  private project(row: number): void {
    const input = this.model.input as DenseMatrix;
    const output = this.model.output as DenseMatrix;
    const d = input.cols;
    const x = input.data.subarray(row * d, row * d + d);
    const o = row * this.nout;
    for (let k = 0; k < this.nout; k++) this.proj![o + k] = output.dotRow(x, k);
    this.projDone![row] = 1;
  }

  /** Output-layer pre-activations for the mean of `rows[0..n)`. */
  private computeLogits(rows: Int32Array, n: number): void {
    const logits = this.logits;
    logits.fill(0);
    if (this.proj) {
      const proj = this.proj;
      const done = this.projDone!;
      const nout = this.nout;
      for (let i = 0; i < n; i++) {
        const r = rows[i];
        if (!done[r]) this.project(r);
        const o = r * nout;
        for (let k = 0; k < nout; k++) logits[k] += proj[o + k];
      }
      for (let k = 0; k < nout; k++) logits[k] = f(logits[k] / n);
      return;
    }
    const h = this.hidden;
    h.fill(0);
    for (let i = 0; i < n; i++) this.model.input.addRowTo(h, rows[i], 1);
    const inv = f(1 / n);
    for (let k = 0; k < h.length; k++) h[k] *= inv;
    for (let k = 0; k < this.nout; k++) logits[k] = this.model.output.dotRow(h, k);
  }

  /**
   * Probability of every label for one line, into `out` (length nlabels). Returns false for an empty
   * line (no known word and no n-gram): fastText makes no prediction then.
   */
  probs(rows: Int32Array, n: number, out: Float64Array): boolean {
    if (n === 0) return false;
    this.computeLogits(rows, n);
    if (this.model.args.loss === 'hs') this.hsProbs(out);
    else {
      out.set(this.logits);
      computeOutput(this.model.args.loss, out, this.nout);
    }
    return true;
  }

  /** Hierarchical softmax: fastText scores a leaf by the sum of std_log of the branch probabilities. */
  private hsProbs(out: Float64Array): void {
    const t = this.tree!;
    const osz = t.nlabels;
    const walk = (node: number, score: number) => {
      if (t.left[node] === -1 && t.right[node] === -1) {
        out[node] = Math.exp(score);
        return;
      }
      const p = f(1 / f(1 + f(Math.exp(-f(this.logits[node - osz])))));
      walk(t.left[node], f(score + stdLog(1 - p)));
      walk(t.right[node], f(score + stdLog(p)));
    };
    if (osz === 1) out[0] = 1;
    else walk(2 * osz - 2, 0);
  }
}

/** Indices of the k largest values, best first (ties: lower index first). */
export function topK(p: Float64Array, k: number, threshold = 0): number[] {
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i] >= threshold) idx.push(i);
  idx.sort((a, b) => p[b] - p[a] || a - b);
  return idx.slice(0, k);
}
