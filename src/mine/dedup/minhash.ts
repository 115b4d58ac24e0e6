// MinHash signatures and LSH band keys of document texts (datatrove's algorithm, see params.ts and
// wasm/minhash.wat). One MinHasher per thread: it owns a WebAssembly instance and its memory.
import { MINHASH_WASM } from '../wasm/minhash-wasm.js';
import { permParams } from './params.js';
import { asciiWordBytes, wordString } from './simplify.js';

export interface MinHashConfig {
  /** Words per shingle (datatrove: 5). */
  ngram: number;
  bands: number;
  rows: number;
  /** Seed of the permutation parameters (datatrove: 1). */
  seed: number;
}

export const DATATROVE: MinHashConfig = { ngram: 5, bands: 14, rows: 8, seed: 1 };

// The lib settings of this project carry no WebAssembly types: the little used here is declared.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernels {
  memory: WasmMemory;
  xxh64(p: number, len: number): bigint;
  shingles(t: number, len: number, n: number, starts: number, out: number): number;
  minhash(h: number, n: number, k: number, pa: number, pb: number, sig: number): void;
  band_keys(sig: number, bands: number, rows: number, keys: number): void;
}

let compiled: object | undefined;

function instantiate(): Kernels {
  compiled ??= new WA.Module(Buffer.from(MINHASH_WASM, 'base64'));
  return new WA.Instance(compiled, {}).exports as unknown as Kernels;
}

const encoder = new TextEncoder();
const PAGE = 65536;

export class MinHasher {
  private readonly k: Kernels;
  /** Permutations, rounded up to the kernel's group of 8 (the extra ones are computed and ignored). */
  private readonly perms: number;
  // Fixed layout at the bottom of memory: a[], b[], the signature, the band keys; then per-text scratch.
  private readonly pa = 0;
  private readonly pb: number;
  private readonly sig: number;
  private readonly keys: number;
  private readonly scratch: number;

  constructor(readonly cfg: MinHashConfig) {
    this.k = instantiate();
    this.perms = Math.ceil((cfg.bands * cfg.rows) / 8) * 8;
    this.pb = this.perms * 8;
    this.sig = this.pb + this.perms * 8;
    this.keys = this.sig + this.perms * 8;
    this.scratch = this.keys + cfg.bands * 8 + 64;
    this.reserve(this.scratch);
    // datatrove draws all of a, then all of b, for exactly bands*rows permutations: draw those, and pad
    // the kernel's group of 8 with copies (their minima are computed and never read).
    const real = cfg.bands * cfg.rows;
    const { a, b } = permParams(real, cfg.seed);
    const mem = new BigUint64Array(this.k.memory.buffer);
    for (let i = 0; i < this.perms; i++) {
      mem[this.pa / 8 + i] = a[i % real]!;
      mem[this.pb / 8 + i] = b[i % real]!;
    }
  }

  private reserve(bytes: number): void {
    const have = this.k.memory.buffer.byteLength;
    if (bytes > have) this.k.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /**
   * Normalise `text` (wordString, or its one-pass ASCII form) into wasm memory and hash its shingles there;
   * returns the byte offset of the u64 hashes and their count (0: fewer words than an n-gram).
   */
  private shingleHashes(text: string): { at: number; count: number } {
    const t = this.scratch;
    // ASCII: at most 1.25 bytes a character (contraction splits); else UTF-8's 3 bytes a UTF-16 unit.
    let room = text.length + (text.length >> 2) + 8;
    this.reserve(t + room);
    let len = asciiWordBytes(text, new Uint8Array(this.k.memory.buffer, t, room));
    if (len < 0) {
      const words = wordString(text);
      room = words.length * 3;
      this.reserve(t + room);
      len = encoder.encodeInto(words, new Uint8Array(this.k.memory.buffer, t, room)).written;
    }
    // Words <= bytes/2 + 1 (one byte and a space each); shingles <= words.
    const maxWords = (len >> 1) + 2;
    const starts = t + len + 8 - ((len + 8) % 8);
    const out = starts + maxWords * 4 + 8 - ((maxWords * 4) % 8);
    this.reserve(out + maxWords * 8);
    const count = this.k.shingles(t, len, this.cfg.ngram, starts, out);
    return { at: out, count };
  }

  /**
   * The band keys of a text (one u64 per band, as lo/hi u32 pairs written to `into` at `offset`), or
   * false when the text has fewer words than an n-gram (datatrove gives such texts no signature).
   */
  bandKeys(text: string, into: Uint32Array, offset: number): boolean {
    const { at, count } = this.shingleHashes(text);
    if (count === 0) return false;
    const { bands, rows } = this.cfg;
    this.k.minhash(at, count, this.perms, this.pa, this.pb, this.sig);
    this.k.band_keys(this.sig, bands, rows, this.keys);
    into.set(new Uint32Array(this.k.memory.buffer, this.keys, bands * 2), offset);
    return true;
  }

  /** The full signature (bands*rows values), for tests and the reference comparison. */
  signature(text: string): bigint[] | undefined {
    const { at, count } = this.shingleHashes(text);
    if (count === 0) return undefined;
    this.k.minhash(at, count, this.perms, this.pa, this.pb, this.sig);
    return Array.from(new BigUint64Array(this.k.memory.buffer, this.sig, this.cfg.bands * this.cfg.rows));
  }

  /** The distinct shingle hashes of a text, sorted (Jaccard verification). */
  shingleSet(text: string): BigUint64Array {
    const { at, count } = this.shingleHashes(text);
    const set = new BigUint64Array(this.k.memory.buffer, at, count).slice().sort();
    let n = 0;
    for (let i = 0; i < set.length; i++) if (i === 0 || set[i] !== set[n - 1]) set[n++] = set[i]!;
    return set.subarray(0, n);
  }

  /** xxh64 (seed 0) of a string's UTF-8 bytes. */
  hash(s: string): bigint {
    const maxBytes = s.length * 3;
    this.reserve(this.scratch + maxBytes);
    const { written } = encoder.encodeInto(s, new Uint8Array(this.k.memory.buffer, this.scratch, maxBytes));
    return BigInt.asUintN(64, this.k.xxh64(this.scratch, written));
  }
}

/** Jaccard similarity of two sorted distinct sets. */
export function jaccard(x: BigUint64Array, y: BigUint64Array): number {
  if (x.length === 0 && y.length === 0) return 1;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < x.length && j < y.length) {
    if (x[i]! === y[j]!) {
      common++;
      i++;
      j++;
    } else if (x[i]! < y[j]!) i++;
    else j++;
  }
  return common / (x.length + y.length - common);
}
