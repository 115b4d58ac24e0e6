// The index file (`mathpipe decontam index`): built once from the benchmarks, loaded by every shard job.
// Little-endian throughout. Layout (also in man mathpipe-decontam, INDEX FILE FORMAT):
//
//   offset  size  field
//   0       8     magic "MPDCIDX\0"
//   8       4     format version (FORMAT_VERSION)
//   12      4     word normaliser version (NORMALIZER_VERSION in words.ts)
//   16      4     n (n-gram length)
//   20      4     log2 slots of the n-gram table (G)
//   24      4     keys in the n-gram table
//   28      4     log2 slots of the short-text table (S)
//   32      4     keys in the short-text table
//   36      4     short-text length mask (bit k: a short text of k words exists)
//   40      4     metadata length M in bytes
//   44      4     CRC-32 of every byte after the 64-byte header
//   48      4     log2 bits of the k-gram filter bitset (V)
//   52      4     log2 bits of the short-text trigram and first-word bitsets (W)
//   56      4     k of the k-gram filter
//   60      4     reserved, zero
//   64      M     metadata: UTF-8 JSON {benchmarks: [...], rules: {max_items, stoplist}, text_bench:
//                 [[bench, count], ...], texts: [[bench, item, field], ...]}, padded with spaces to a
//                 multiple of 8; text_bench is each text's benchmark as runs (files written before it
//                 was added lack it, and are read through texts)
//   ...           bitsets as u32 words (bit h = a hash h is present): k-grams of n-gram texts (2^V bits),
//                 short-text word trigrams (2^W bits), short-text first words (2^W bits)
//   ...           n-gram table: 2^G slots of three i32 [key A, key B, value] (value -1 = empty slot,
//                 otherwise an index into metadata.texts; keys are the uint32 halves stored as i32)
//   ...           short-text table: the same with 2^S slots
//
// The tables are stored exactly as they are in memory, so loading is one read and no rehashing.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { DataError, IoError } from '../cli/errors.js';
import { writeAll, writeOutputFd } from '../cli/output-file.js';
import { GramTable } from './table.js';
import { NgramIndex, MAX_N, MIN_WORDS, SHORT_VOCAB_BITS, FILTER_BITS, FILTER_K, type BenchInfo, type IndexRules } from './ngram-index.js';
import { NORMALIZER_VERSION } from './words.js';
import { mapFile } from './native-scan.js';

export const MAGIC = 'MPDCIDX\0';
// 2: LaTeX command words, calculator annotations dropped, the stoplist and --max-items rules (rules in metadata).
export const FORMAT_VERSION = 2;
const HEADER = 64;
const TEXTS_KEY = Buffer.from(',"texts":[');

interface Meta {
  benchmarks: BenchInfo[];
  rules: IndexRules;
  /** Runs of [benchmark, texts]: a scan counts hits by benchmark without parsing `texts`, the bulk of the metadata. */
  text_bench?: [number, number][];
  texts: [number, string, string][];
}

const view = (a: Uint32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function tableBytes(t: GramTable): Buffer[] {
  return [view(t.slots)];
}

export function serializeIndex(index: NgramIndex): Buffer[] {
  const meta: Meta = {
    benchmarks: index.benchmarks,
    rules: index.rules,
    text_bench: index.benchRuns(),
    texts: index.textBench.map((b, i) => [b, index.textItem[i], index.textField[i]]),
  };
  let metaBuf = Buffer.from(JSON.stringify(meta), 'utf8');
  const pad = (8 - (metaBuf.length % 8)) % 8;
  if (pad) metaBuf = Buffer.concat([metaBuf, Buffer.alloc(pad, 0x20)]);
  const body = [
    metaBuf,
    view(index.filter),
    view(index.shortTrigrams),
    view(index.shortFirst),
    ...tableBytes(index.grams),
    ...tableBytes(index.short),
  ];
  let crc = 0;
  for (const b of body) crc = crc32(b, crc);
  const h = Buffer.alloc(HEADER);
  h.write(MAGIC, 0, 'latin1');
  const fields = [
    FORMAT_VERSION,
    NORMALIZER_VERSION,
    index.n,
    index.grams.bits,
    index.grams.size,
    index.short.bits,
    index.short.size,
    index.shortLengths >>> 0,
    metaBuf.length,
    crc >>> 0,
    FILTER_BITS,
    SHORT_VOCAB_BITS,
    index.k,
  ];
  fields.forEach((v, i) => h.writeUInt32LE(v, 8 + 4 * i));
  return [h, ...body];
}

/** Written by cli/output-file's rules, like every mathpipe output. */
export function writeIndexFile(path: string, index: NgramIndex): number {
  let bytes = 0;
  writeOutputFd(path, (fd) => {
    for (const b of serializeIndex(index)) {
      writeAll(fd, b);
      bytes += b.length;
    }
  });
  return bytes;
}

/** The file's bytes: mapped when the addon can (no copy), else read into shared memory (worker threads can view it). */
function readWhole(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new IoError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  // open(2) succeeds on a directory; reading it would fail later with a bare EISDIR.
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new IoError(`cannot read ${path}: is a directory`);
  }
  try {
    const size = fstatSync(fd).size;
    let mapped: ArrayBuffer | undefined;
    try {
      mapped = mapFile(fd, 0, size);
    } catch {
      // A file system that cannot be mapped: read it.
    }
    if (mapped) return Buffer.from(mapped);
    // Shared so worker threads can use the same bytes; aligned so typed arrays view it without copying.
    const buf = Buffer.from(new SharedArrayBuffer(size));
    for (let off = 0; off < size; ) {
      const r = readSync(fd, buf, off, size - off, off);
      if (r === 0) break;
      off += r;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** `verify` false skips the checksum: for a buffer already checked (worker threads). */
export function parseIndex(buf: Buffer, path: string, verify = true): NgramIndex {
  if (buf.byteOffset % 8) buf = Buffer.from(new Uint8Array(buf)); // typed-array views need alignment
  const bad = (why: string) => new DataError(path, `not a usable decontam index: ${why}`);
  if (buf.length < HEADER || buf.toString('latin1', 0, 8) !== MAGIC) throw bad('bad magic (build one with `mathpipe decontam index`)');
  const u = (i: number) => buf.readUInt32LE(8 + 4 * i);
  const [version, normalizer, n, gBits, gSize, sBits, sSize, lengths, metaLen, crc, vBits, wBits, k] = Array.from({ length: 13 }, (_, i) => u(i));
  if (version !== FORMAT_VERSION)
    throw bad(`format version ${version}, this mathpipe reads ${FORMAT_VERSION}: rebuild it with \`mathpipe decontam index\``);
  if (normalizer !== NORMALIZER_VERSION)
    throw bad(`built with word normaliser v${normalizer}, this mathpipe uses v${NORMALIZER_VERSION}: rebuild it with \`mathpipe decontam index\``);
  if (n < MIN_WORDS || n > MAX_N || gBits > 30 || sBits > 30 || vBits !== FILTER_BITS || wBits !== SHORT_VOCAB_BITS || k !== Math.min(FILTER_K, n)) throw bad('corrupt header');
  const gSlots = 2 ** gBits;
  const sSlots = 2 ** sBits;
  const expected = HEADER + metaLen + 2 ** vBits / 8 + 2 ** wBits / 4 + 12 * gSlots + 12 * sSlots;
  if (metaLen % 8 || buf.length !== expected) throw bad(`size ${buf.length} bytes, header says ${expected} (truncated?)`);
  if (verify && crc32(buf.subarray(HEADER)) >>> 0 !== crc) throw bad('checksum mismatch (corrupt file)');
  // The texts' list is most of the metadata and only describes removed documents (--removed): it is parsed
  // when first needed.
  let meta: Omit<Meta, 'texts'> | undefined;
  let texts: (() => Meta['texts']) | undefined;
  // Decoded in two parts: the head (benchmarks, rules, text_bench) now, the texts' list (~2 MB) when first needed.
  const metaBytes = buf.subarray(HEADER, HEADER + metaLen);
  let end = metaBytes.length;
  while (end > 0 && metaBytes[end - 1] === 0x20) end--;
  // serializeIndex writes "texts" last; the bare `,"texts":[` cannot occur inside a JSON string.
  const at = metaBytes.lastIndexOf(TEXTS_KEY, end);
  try {
    if (at >= 0 && metaBytes[end - 2] === 0x5d && metaBytes[end - 1] === 0x7d) {
      meta = JSON.parse(metaBytes.toString('utf8', 0, at) + '}') as Omit<Meta, 'texts'>;
      const list = metaBytes.subarray(at + TEXTS_KEY.length - 1, end - 1);
      texts = () => {
        try {
          return JSON.parse(list.toString('utf8')) as Meta['texts'];
        } catch {
          throw bad('corrupt metadata');
        }
      };
    }
  } catch {
    // not the layout serializeIndex writes: parse it whole
  }
  if (!meta) {
    let whole: Meta;
    try {
      whole = JSON.parse(metaBytes.toString('utf8', 0, end)) as Meta;
    } catch {
      throw bad('corrupt metadata');
    }
    meta = whole;
    texts = () => whole.texts;
  }
  const ab = buf.buffer;
  let off = buf.byteOffset + HEADER + metaLen;
  const take = <T>(C: new (b: ArrayBuffer, o: number, l: number) => T, len: number): T => {
    const a = new C(ab as ArrayBuffer, off, len);
    off += 4 * len;
    return a;
  };
  const table = (slots: number, size: number) => new GramTable(0, { slots: take(Int32Array, 3 * slots), size });
  const filter = take(Uint32Array, 2 ** vBits / 32);
  const shortTrigrams = take(Uint32Array, 2 ** wBits / 32);
  const shortFirst = take(Uint32Array, 2 ** wBits / 32);
  const grams = table(gSlots, gSize);
  const short = table(sSlots, sSize);
  const index = new NgramIndex(n, { grams, short, shortLengths: lengths, filter, shortTrigrams, shortFirst });
  if (buf.buffer instanceof SharedArrayBuffer && buf.byteOffset === 0 && buf.length === buf.buffer.byteLength) index.backing = buf.buffer;
  index.file = buf;
  index.benchmarks = meta.benchmarks;
  index.rules = meta.rules;
  index.setTexts(texts!, meta.text_bench);
  return index;
}

/** The index serialised into shared memory and parsed back over it (for worker threads). */
export function shareIndex(index: NgramIndex): NgramIndex {
  if (index.backing) return index;
  const parts = serializeIndex(index);
  const sab = new SharedArrayBuffer(parts.reduce((n, p) => n + p.length, 0));
  const view = Buffer.from(sab);
  let off = 0;
  for (const p of parts) off += p.copy(view, off);
  return parseIndex(view, '<index>', false);
}

/**
 * The index in `path`, mapped when the addon is built (no copy of ~50 MB into fresh memory, whose page
 * faults cost more than the rest of loading; worker threads map it too), else read into shared memory.
 */
export function readIndexFile(path: string): NgramIndex {
  return parseIndex(readWhole(path), path);
}

/** The checksum field of the header of the index file `index` was read from (undefined: not read from a file). */
export function fileChecksum(index: NgramIndex): number | undefined {
  const f = index.file;
  return f && f.length >= HEADER ? new DataView(f.buffer, f.byteOffset + 44, 4).getUint32(0, true) : undefined;
}

/**
 * The index file `path` again, as a worker thread maps it after the main thread verified it: the checksum
 * is not recomputed over its ~50 MB but compared with the one the main thread checked (`crc`), so a file
 * replaced in between is still refused.
 */
export function reopenIndexFile(path: string, crc: number): NgramIndex {
  const index = parseIndex(readWhole(path), path, false);
  if (fileChecksum(index) !== crc) throw new DataError(path, 'the index file changed while it was read');
  return index;
}
