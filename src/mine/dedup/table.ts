// What dedup keeps of each document between reading it and writing the output: its band keys, URL hash,
// score, length and where it came from: about 130 bytes a document with the default 14 bands, whatever
// the text's size. Columnar typed arrays that grow by doubling, so a million documents are a few arrays.

/** One block's worth of documents, as a worker returns them. */
export interface DocBatch {
  n: number;
  /** n * bands (lo, hi) u32 pairs; zero for documents without a signature. */
  keys: Uint32Array;
  /** 1: has a signature (at least n-gram words). */
  sig: Uint8Array;
  /** n (lo, hi) pairs of the normalised URL's xxh64; (0, 0) without a usable URL. */
  url: Uint32Array;
  /** The score field (NaN when absent). */
  score: Float64Array;
  /** Text length in UTF-16 units (--keep longest). */
  length: Uint32Array;
  /** Input line of each document (1-based), in `file`. */
  line: Uint32Array;
  file: number;
  /** Lines skipped as invalid (--skip-invalid). */
  skipped: number;
}

function grow<T extends Uint32Array | Uint8Array | Float64Array | Uint16Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 1024));
  b.set(a);
  return b;
}

export class DocTable {
  n = 0;
  keys = new Uint32Array(0);
  sig = new Uint8Array(0);
  url = new Uint32Array(0);
  score = new Float64Array(0);
  length = new Uint32Array(0);
  line = new Uint32Array(0);
  file = new Uint16Array(0);
  skipped = 0;

  constructor(readonly bands: number) {}

  append(b: DocBatch): void {
    const n = this.n + b.n;
    const w = this.bands * 2;
    this.keys = grow(this.keys, n * w);
    this.keys.set(b.keys.subarray(0, b.n * w), this.n * w);
    this.sig = grow(this.sig, n);
    this.sig.set(b.sig.subarray(0, b.n), this.n);
    this.url = grow(this.url, n * 2);
    this.url.set(b.url.subarray(0, b.n * 2), this.n * 2);
    this.score = grow(this.score, n);
    this.score.set(b.score.subarray(0, b.n), this.n);
    this.length = grow(this.length, n);
    this.length.set(b.length.subarray(0, b.n), this.n);
    this.line = grow(this.line, n);
    this.line.set(b.line.subarray(0, b.n), this.n);
    this.file = grow(this.file, n);
    this.file.fill(b.file, this.n, n);
    this.n = n;
    this.skipped += b.skipped;
  }

  hasUrl(d: number): boolean {
    return (this.url[2 * d]! | this.url[2 * d + 1]!) !== 0;
  }
}
