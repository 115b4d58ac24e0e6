// The two matrices of a fastText model. Dense rows live in one Float32Array (backed by a
// SharedArrayBuffer while training, so worker threads update them in place, Hogwild-style, as fastText's
// threads do). Quantized matrices (.ftz) keep product-quantizer codes and decode rows on the fly.

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** x += scale * row i */
  addRowTo(x: Float32Array, i: number, scale: number): void;
  /** <x, row i> */
  dotRow(x: Float32Array, i: number): number;
}

export class DenseMatrix implements Matrix {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly data: Float32Array,
  ) {}

  static zeros(rows: number, cols: number, shared = false): DenseMatrix {
    const bytes = rows * cols * 4;
    const buf = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    return new DenseMatrix(rows, cols, new Float32Array(buf));
  }

  addRowTo(x: Float32Array, i: number, scale: number): void {
    const d = this.data;
    const n = this.cols;
    const o = i * n;
    for (let k = 0; k < n; k++) x[k] += scale * d[o + k];
  }

  dotRow(x: Float32Array, i: number): number {
    const d = this.data;
    const n = this.cols;
    const o = i * n;
    let s = 0;
    for (let k = 0; k < n; k++) s += x[k] * d[o + k];
    return s;
  }
}

/** fastText's ProductQuantizer: nsubq sub-vectors of dsub floats (the last one lastdsub), 256 centroids each. */
export class ProductQuantizer {
  static readonly KSUB = 256;
  constructor(
    readonly dim: number,
    readonly nsubq: number,
    readonly dsub: number,
    readonly lastdsub: number,
    readonly centroids: Float32Array,
  ) {}

  centroidOffset(m: number, i: number): number {
    return m === this.nsubq - 1 ? m * ProductQuantizer.KSUB * this.dsub + i * this.lastdsub : (m * ProductQuantizer.KSUB + i) * this.dsub;
  }
}

export class QuantMatrix implements Matrix {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly codes: Uint8Array,
    readonly pq: ProductQuantizer,
    readonly normCodes: Uint8Array | null,
    readonly npq: ProductQuantizer | null,
  ) {}

  private norm(i: number): number {
    if (!this.normCodes || !this.npq) return 1;
    return this.npq.centroids[this.npq.centroidOffset(0, this.normCodes[i])];
  }

  addRowTo(x: Float32Array, i: number, scale: number): void {
    const { pq, codes } = this;
    const alpha = scale * this.norm(i);
    const base = pq.nsubq * i;
    for (let m = 0; m < pq.nsubq; m++) {
      const c = pq.centroidOffset(m, codes[base + m]);
      const d = m === pq.nsubq - 1 ? pq.lastdsub : pq.dsub;
      for (let n = 0; n < d; n++) x[m * pq.dsub + n] += alpha * pq.centroids[c + n];
    }
  }

  dotRow(x: Float32Array, i: number): number {
    const { pq, codes } = this;
    const base = pq.nsubq * i;
    let res = 0;
    for (let m = 0; m < pq.nsubq; m++) {
      const c = pq.centroidOffset(m, codes[base + m]);
      const d = m === pq.nsubq - 1 ? pq.lastdsub : pq.dsub;
      for (let n = 0; n < d; n++) res += x[m * pq.dsub + n] * pq.centroids[c + n];
    }
    return res * this.norm(i);
  }
}
