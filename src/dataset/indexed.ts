// Megatron-LM's memory-mapped indexed dataset (MMIDIDX), so token files made here train unchanged in
// Megatron-LM or NeMo. Layout of PREFIX.idx (little-endian), as written by megatron/core/datasets/indexed_dataset.py:
//   "MMIDIDX\0\0" | u64 version=1 | u8 dtype code | u64 sequence count S | u64 document count D
//   | i32[S] sequence lengths (tokens) | i64[S] sequence pointers (byte offsets into .bin)
//   | i64[D] document indices (D = documents + 1; starts at 0; entry k is the first sequence after document k-1)
// PREFIX.bin holds the tokens of all sequences back to back. Here one document is one sequence.
import { openSync, readSync, closeSync, writeSync, readFileSync, fstatSync } from 'node:fs';
import { DataError, IoError } from '../cli/errors.js';
import { OutputFile, writeOutputFile } from '../cli/output-file.js';

const MAGIC = Buffer.from('MMIDIDX\x00\x00', 'latin1');
const HEADER_BYTES = 9 + 8 + 1 + 8 + 8;

export type TokenDType = 'uint16' | 'int32';
const CODES: Record<TokenDType, number> = { uint16: 8, int32: 4 };
const SIZES: Record<TokenDType, number> = { uint16: 2, int32: 4 };
export type TokenArray = Uint16Array | Int32Array;

/** Megatron's rule (best_fitting_dtype): uint16 when the vocabulary is below 65500, else int32. */
export function dtypeForVocab(vocabSize: number): TokenDType {
  return vocabSize < 65500 ? 'uint16' : 'int32';
}

function alloc(dtype: TokenDType, n: number): TokenArray {
  return dtype === 'uint16' ? new Uint16Array(n) : new Int32Array(n);
}

/** A dataset named as given: "path/a", "path/a.bin" and "path/a.idx" all name the prefix path/a. */
export function datasetPrefix(p: string): string {
  return p.replace(/\.(bin|idx)$/, '');
}

/** "WEIGHT:PREFIX" (as Megatron's blends and `pretrain --data`) or "PREFIX": the weight when given, and the prefix. */
export function weightedPrefix(s: string): { weight?: number; prefix: string } {
  const m = /^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?):(.+)$/.exec(s);
  return m ? { weight: Number(m[1]), prefix: datasetPrefix(m[2]) } : { prefix: datasetPrefix(s) };
}

export class IndexedDatasetWriter {
  private readonly fd: number;
  private readonly bin: OutputFile;
  private readonly lengths: number[] = [];
  private bytes = 0;
  private buf: Buffer;
  private used = 0;
  tokens = 0;

  private constructor(
    readonly prefix: string,
    readonly dtype: TokenDType,
  ) {
    this.bin = OutputFile.begin(`${prefix}.bin`);
    try {
      this.fd = openSync(this.bin.writePath, this.bin.flags);
    } catch (e) {
      this.bin.abort();
      throw new IoError(`cannot write ${prefix}.bin: ${(e as Error).message}`);
    }
    this.buf = Buffer.allocUnsafe(1 << 20);
  }

  static create(prefix: string, dtype: TokenDType): IndexedDatasetWriter {
    return new IndexedDatasetWriter(prefix, dtype);
  }

  /** Append one document (one sequence). */
  add(tokens: ArrayLike<number>): void {
    const size = SIZES[this.dtype];
    const need = tokens.length * size;
    if (this.used + need > this.buf.length) this.flush();
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    const max = this.dtype === 'uint16' ? 0xffff : 0x7fffffff;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (!(t >= 0 && t <= max)) throw new RangeError(`token id ${t} does not fit ${this.dtype}`);
      if (size === 2) this.buf.writeUInt16LE(t, this.used + 2 * i);
      else this.buf.writeInt32LE(t, this.used + 4 * i);
    }
    this.used += need;
    this.lengths.push(tokens.length);
    this.bytes += need;
    this.tokens += tokens.length;
  }

  /**
   * Append many documents at once: `tokens` holds them back to back (already in this dataset's dtype,
   * ids checked by the caller) and `lengths` their sizes. The bulk path of `tokenize`.
   */
  addMany(tokens: TokenArray, lengths: ArrayLike<number>): void {
    if ((this.dtype === 'uint16') !== tokens instanceof Uint16Array) throw new TypeError(`addMany expects ${this.dtype} tokens`);
    this.flush();
    const bytes = Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength);
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    for (let i = 0; i < lengths.length; i++) this.lengths.push(lengths[i]);
    this.bytes += bytes.length;
    this.tokens += tokens.length;
  }

  get documents(): number {
    return this.lengths.length;
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
    // .bin first: a reader that finds a new .idx always finds the .bin it describes.
    this.bin.commit();
    writeOutputFile(`${this.prefix}.idx`, encodeIndex(this.dtype, this.lengths));
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.bin.abort();
  }
}

/** The .idx bytes for documents of the given lengths (one sequence per document). */
export function encodeIndex(dtype: TokenDType, lengths: number[]): Buffer {
  const S = lengths.length;
  const D = S + 1;
  const out = Buffer.alloc(HEADER_BYTES + 4 * S + 8 * S + 8 * D);
  let o = MAGIC.copy(out, 0);
  o = out.writeBigUInt64LE(1n, o);
  o = out.writeUInt8(CODES[dtype], o);
  o = out.writeBigUInt64LE(BigInt(S), o);
  o = out.writeBigUInt64LE(BigInt(D), o);
  for (const n of lengths) o = out.writeInt32LE(n, o);
  let ptr = 0;
  for (const n of lengths) {
    o = out.writeBigInt64LE(BigInt(ptr), o);
    ptr += n * SIZES[dtype];
  }
  for (let k = 0; k <= S; k++) o = out.writeBigInt64LE(BigInt(k), o);
  return out;
}

/** Random access to a dataset. Reads tokens with positioned reads, so datasets larger than memory work. */
export class IndexedDataset {
  readonly dtype: TokenDType;
  readonly lengths: Int32Array;
  /** Byte offsets of each sequence in .bin. */
  readonly pointers: Float64Array;
  readonly documentIndices: Float64Array;
  readonly numTokens: number;
  private readonly fd: number;

  private constructor(readonly prefix: string) {
    const idxPath = `${prefix}.idx`;
    let idx: Buffer;
    try {
      idx = readFileSync(idxPath);
    } catch (e) {
      throw new IoError(`cannot read ${idxPath}: ${(e as Error).message}`);
    }
    if (idx.length < HEADER_BYTES || !idx.subarray(0, 9).equals(MAGIC)) throw new DataError(idxPath, 'not a Megatron MMIDIDX index');
    let o = 9;
    const version = idx.readBigUInt64LE(o);
    o += 8;
    if (version !== 1n) throw new DataError(idxPath, `unsupported index version ${version}`);
    const code = idx.readUInt8(o);
    o += 1;
    const dtype = (Object.keys(CODES) as TokenDType[]).find((k) => CODES[k] === code);
    if (!dtype) throw new DataError(idxPath, `unsupported dtype code ${code} (mathpipe reads uint16=8 and int32=4)`);
    this.dtype = dtype;
    const S = Number(idx.readBigUInt64LE(o));
    const D = Number(idx.readBigUInt64LE(o + 8));
    o += 16;
    if (idx.length < o + 12 * S + 8 * D) throw new DataError(idxPath, 'index file is truncated');
    this.lengths = new Int32Array(S);
    this.pointers = new Float64Array(S);
    this.documentIndices = new Float64Array(D);
    let total = 0;
    for (let i = 0; i < S; i++, o += 4) total += this.lengths[i] = idx.readInt32LE(o);
    for (let i = 0; i < S; i++, o += 8) this.pointers[i] = Number(idx.readBigInt64LE(o));
    for (let i = 0; i < D; i++, o += 8) this.documentIndices[i] = Number(idx.readBigInt64LE(o));
    this.numTokens = total;
    const binPath = `${prefix}.bin`;
    try {
      this.fd = openSync(binPath, 'r');
    } catch (e) {
      throw new IoError(`cannot read ${binPath}: ${(e as Error).message}`);
    }
    const need = S ? this.pointers[S - 1] + this.lengths[S - 1] * SIZES[dtype] : 0;
    if (fstatSync(this.fd).size < need) throw new DataError(binPath, `token file is truncated (${need} bytes expected)`);
  }

  static open(prefix: string): IndexedDataset {
    return new IndexedDataset(datasetPrefix(prefix));
  }

  get numSequences(): number {
    return this.lengths.length;
  }

  /** Tokens of sequence i. */
  sequence(i: number): TokenArray {
    return this.readAt(this.pointers[i], this.lengths[i]);
  }

  /**
   * `count` tokens starting at global token position `start` of the concatenated stream
   * (sequences are contiguous in .bin, so a window may span documents, as in GPT pretraining).
   */
  window(start: number, count: number): TokenArray {
    if (start < 0 || start + count > this.numTokens) throw new RangeError(`window ${start}+${count} outside ${this.numTokens} tokens`);
    return this.readAt(start * SIZES[this.dtype], count);
  }

  private readAt(byteOffset: number, count: number): TokenArray {
    const out = alloc(this.dtype, count);
    const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    let got = 0;
    while (got < view.length) {
      const n = readSync(this.fd, view, got, view.length - got, byteOffset + got);
      if (n === 0) throw new DataError(`${this.prefix}.bin`, 'unexpected end of token file');
      got += n;
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
