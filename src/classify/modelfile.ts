// fastText's model file (.bin, and the quantized .ftz): magic 793712314, version 12, the args block,
// the dictionary, then the input and output matrices, each preceded by a "quantized" flag byte.
// Files are read through a small cursor so a 2 GB model is never held twice in memory: matrix data is
// read straight into its Float32Array. mathpipe appends a trailer (fastText stops reading before it and
// ignores it) recording how text was normalised, so predict uses the same rule as train.
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { DataError, IoError } from '../cli/errors.js';
import { writeOutputParts } from '../cli/output-file.js';
import { ARGS_BYTES, MODEL_SUP, readArgs, writeArgs, type Args } from './args.js';
import { Dictionary, TYPE_LABEL, TYPE_WORD } from './dictionary.js';
import { DenseMatrix, ProductQuantizer, QuantMatrix, type Matrix } from './matrix.js';
import { NORMALIZE_MODES, type Normalize } from './normalize.js';

export const MAGIC = 793712314;
export const VERSION = 12;
const TRAILER = Buffer.from('mathpipe', 'ascii');

export interface ModelMeta {
  normalize: Normalize;
}

export interface FastTextModel {
  args: Args;
  dict: Dictionary;
  input: Matrix;
  output: Matrix;
  quantized: boolean;
  /** Present when the file was written by mathpipe. */
  meta: ModelMeta | null;
}

class Cursor {
  private buf = Buffer.alloc(1 << 16);
  private start = 0; // file offset of buf[0]
  private len = 0;
  pos = 0; // file offset
  constructor(
    private readonly fd: number,
    readonly file: string,
    readonly size: number,
  ) {}

  private fail(need: number): never {
    throw new DataError(this.file, `truncated or corrupt model file: needed ${need} more bytes at offset ${this.pos}, file has ${this.size}`);
  }

  private fill(n: number): number {
    if (this.pos + n > this.size) this.fail(n);
    if (this.pos < this.start || this.pos + n > this.start + this.len) {
      if (n > this.buf.length) this.buf = Buffer.alloc(n);
      this.start = this.pos;
      this.len = readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
      if (this.len < n) this.fail(n);
    }
    const o = this.pos - this.start;
    this.pos += n;
    return o;
  }

  int32(): number {
    return this.buf.readInt32LE(this.fill(4));
  }
  int64(): number {
    return Number(this.buf.readBigInt64LE(this.fill(8)));
  }
  double(): number {
    return this.buf.readDoubleLE(this.fill(8));
  }
  byte(): number {
    return this.buf[this.fill(1)];
  }
  bytes(n: number): Buffer {
    const o = this.fill(n);
    return Buffer.from(this.buf.subarray(o, o + n));
  }
  cstring(): string {
    for (;;) {
      const avail = this.start + this.len - this.pos;
      const o = this.pos - this.start;
      const z = avail > 0 && this.pos >= this.start ? this.buf.indexOf(0, o) : -1;
      if (z !== -1 && z < o + avail) {
        const s = this.buf.toString('utf8', o, z);
        this.pos += z - o + 1;
        return s;
      }
      // refill from the current position with a buffer big enough for long words
      const want = Math.min(Math.max(this.buf.length, 2 * (avail + 1)), this.size - this.pos);
      if (want <= avail) this.fail(1);
      this.len = 0;
      this.fill(want);
      this.pos -= want;
    }
  }
  /** Read n bytes straight into `dst`. */
  into(dst: Uint8Array): void {
    const n = dst.byteLength;
    if (this.pos + n > this.size) this.fail(n);
    let done = 0;
    // bytes already buffered first
    if (this.pos >= this.start && this.pos < this.start + this.len) {
      const o = this.pos - this.start;
      const k = Math.min(n, this.len - o);
      dst.set(this.buf.subarray(o, o + k));
      done = k;
    }
    while (done < n) {
      const r = readSync(this.fd, dst, done, Math.min(n - done, 1 << 30), this.pos + done);
      if (r <= 0) this.fail(n - done);
      done += r;
    }
    this.pos += n;
  }
}

function readDense(c: Cursor, shared: boolean): DenseMatrix {
  const m = c.int64();
  const n = c.int64();
  if (m < 0 || n <= 0 || n > 1 << 20) throw new DataError(c.file, `corrupt matrix header (${m} x ${n}) at offset ${c.pos - 16}`);
  if (m * n * 4 > c.size - c.pos) {
    throw new DataError(c.file, `truncated or corrupt model file: a ${m} x ${n} matrix needs ${m * n * 4} bytes at offset ${c.pos}, file has ${c.size - c.pos} left`);
  }
  const mat = DenseMatrix.zeros(m, n, shared);
  c.into(new Uint8Array(mat.data.buffer, mat.data.byteOffset, mat.data.byteLength));
  return mat;
}

function readPq(c: Cursor): ProductQuantizer {
  const dim = c.int32();
  const nsubq = c.int32();
  const dsub = c.int32();
  const lastdsub = c.int32();
  if (dim <= 0 || nsubq <= 0 || dim * ProductQuantizer.KSUB * 4 > c.size - c.pos) throw new DataError(c.file, 'corrupt product quantizer in model file');
  const cent = new Float32Array(dim * ProductQuantizer.KSUB);
  c.into(new Uint8Array(cent.buffer));
  return new ProductQuantizer(dim, nsubq, dsub, lastdsub, cent);
}

function readQuant(c: Cursor): QuantMatrix {
  const qnorm = c.byte() !== 0;
  const m = c.int64();
  const n = c.int64();
  const codesize = c.int32();
  if (codesize < 0 || codesize > c.size - c.pos) throw new DataError(c.file, `truncated or corrupt model file: ${codesize} quantized codes at offset ${c.pos}`);
  const codes = new Uint8Array(codesize);
  c.into(codes);
  const pq = readPq(c);
  let normCodes: Uint8Array | null = null;
  let npq: ProductQuantizer | null = null;
  if (qnorm) {
    normCodes = new Uint8Array(m);
    c.into(normCodes);
    npq = readPq(c);
  }
  return new QuantMatrix(m, n, codes, pq, normCodes, npq);
}

/** Load a fastText .bin/.ftz. `shared` puts dense matrices in SharedArrayBuffers (for worker threads). */
export function loadModel(file: string, opts: { shared?: boolean } = {}): FastTextModel {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new IoError(`cannot open model ${file}: ${(e as Error).message}`);
  }
  // open(2) succeeds on a directory; reading it would fail later with a bare EISDIR.
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new IoError(`cannot open model ${file}: is a directory`);
  }
  try {
    const c = new Cursor(fd, file, fstatSync(fd).size);
    const magic = c.int32();
    const version = c.int32();
    if (magic !== MAGIC) throw new DataError(file, `not a fastText model (magic ${magic}, expected ${MAGIC})`);
    if (version > VERSION) throw new DataError(file, `fastText model version ${version} is newer than supported (${VERSION})`);
    const args = readArgs(c.bytes(ARGS_BYTES), 0);
    if (!args) throw new DataError(file, 'unknown loss function code in model file');
    if (args.model !== MODEL_SUP) throw new DataError(file, 'not a supervised (classification) model: word-vector models cannot classify');
    if (version === 11) args.maxn = 0; // fastText: old supervised models had no char n-grams
    const size = c.int32();
    const nwords = c.int32();
    const nlabels = c.int32();
    const ntokens = c.int64();
    const pruneSize = c.int64();
    if (size < 0 || nwords < 0 || nlabels <= 0 || nwords + nlabels !== size) throw new DataError(file, `corrupt dictionary header (size ${size}, words ${nwords}, labels ${nlabels})`);
    const words: string[] = new Array(size);
    const counts: number[] = new Array(size);
    const types = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      words[i] = c.cstring();
      counts[i] = c.int64();
      types[i] = c.byte();
      if (types[i] !== TYPE_WORD && types[i] !== TYPE_LABEL) throw new DataError(file, `corrupt dictionary entry ${i} (type ${types[i]})`);
    }
    let prune: Map<number, number> | null = null;
    if (pruneSize >= 0) {
      prune = new Map();
      for (let i = 0; i < pruneSize; i++) {
        const k = c.int32();
        prune.set(k, c.int32());
      }
    }
    const dict = new Dictionary(words, counts, types, ntokens, args, prune);
    const quantized = c.byte() !== 0;
    const input = quantized ? readQuant(c) : readDense(c, opts.shared ?? false);
    if (!quantized && prune) throw new DataError(file, 'invalid model file: pruned dictionary without a quantized input matrix');
    const qout = c.byte() !== 0;
    const output = quantized && qout ? readQuant(c) : readDense(c, opts.shared ?? false);
    if (input.cols !== args.dim || output.cols !== args.dim) throw new DataError(file, `matrix width ${input.cols}/${output.cols} does not match dim ${args.dim}`);
    if (output.rows !== nlabels) throw new DataError(file, `output matrix has ${output.rows} rows for ${nlabels} labels`);
    return { args, dict, input, output, quantized, meta: readTrailer(c) };
  } finally {
    closeSync(fd);
  }
}

function readTrailer(c: Cursor): ModelMeta | null {
  if (c.size - c.pos < TRAILER.length + 4) return null;
  if (!c.bytes(TRAILER.length).equals(TRAILER)) return null;
  const n = c.int32();
  if (n < 0 || n > c.size - c.pos) return null;
  try {
    const meta = JSON.parse(c.bytes(n).toString('utf8')) as Partial<ModelMeta>;
    if (meta.normalize && NORMALIZE_MODES.includes(meta.normalize)) return { normalize: meta.normalize };
  } catch {
    // an unreadable trailer is treated as absent: the model itself is intact
  }
  return null;
}

function header(m: FastTextModel): Buffer {
  const { dict } = m;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8 + ARGS_BYTES + 4 * 3 + 16);
  let o = head.writeInt32LE(MAGIC, 0);
  o = head.writeInt32LE(VERSION, o);
  o = writeArgs(m.args, head, o);
  o = head.writeInt32LE(dict.size, o);
  o = head.writeInt32LE(dict.nwords, o);
  o = head.writeInt32LE(dict.nlabels, o);
  o = head.writeBigInt64LE(BigInt(dict.ntokens), o);
  head.writeBigInt64LE(-1n, o); // pruneidx_size: never pruned (dense models only)
  parts.push(head);
  for (let i = 0; i < dict.size; i++) {
    const w = Buffer.from(dict.words[i], 'utf8');
    const e = Buffer.alloc(w.length + 1 + 9);
    w.copy(e, 0);
    e.writeBigInt64LE(BigInt(dict.counts[i]), w.length + 1);
    e[w.length + 9] = dict.types[i];
    parts.push(e);
  }
  return Buffer.concat(parts);
}

/** A dense matrix as the format stores it: [flag,] rows, cols (int64), then the floats straight from memory. */
function denseBlock(mat: DenseMatrix, afterFlag: boolean): Uint8Array[] {
  const h = Buffer.alloc(afterFlag ? 17 : 16);
  let o = 0;
  if (afterFlag) h[o++] = 0; // not quantized
  o = h.writeBigInt64LE(BigInt(mat.rows), o);
  h.writeBigInt64LE(BigInt(mat.cols), o);
  return [h, new Uint8Array(mat.data.buffer, mat.data.byteOffset, mat.data.byteLength)];
}

/** Write a dense model by cli/output-file's rules (temporary + rename; devices in place), with the mathpipe trailer. */
export function saveModel(file: string, m: FastTextModel): void {
  if (!(m.input instanceof DenseMatrix) || !(m.output instanceof DenseMatrix)) throw new Error('only dense models can be saved');
  const parts = [header(m), ...denseBlock(m.input, true), ...denseBlock(m.output, true)];
  if (m.meta) {
    const json = Buffer.from(JSON.stringify(m.meta), 'utf8');
    const len = Buffer.alloc(4);
    len.writeInt32LE(json.length, 0);
    parts.push(Buffer.concat([TRAILER, len, json]));
  }
  writeOutputParts(file, parts, 'model ');
}
