// The scan of a block of whole JSONL lines, on the main thread (-j 1) or in a worker. The fast path
// (doc mode) never builds a JS object or string for a document: json-line.ts checks the line and
// decodes its text field to UTF-16 code units, words.ts splits them, the index screens the words, and a
// clean line's bytes are copied to the output as they are. A line the fast path cannot settle (not a
// plain JSON object, text missing or not a string, or a match to describe) goes through the record
// path (scan.ts) exactly as before, so errors, skip counts and evidence are the same.
import { DataError, at } from '../cli/errors.js';
import type { Handler } from '../cli/worker-pool.js';
import { decodeLine, parseLine, type Line } from '../jsonl/index.js';
import { findText, found } from './json-line.js';
import type { NgramIndex } from './ngram-index.js';
import { Scanner, type ScanCounts, type ScanOptions } from './scan.js';
import { COPY, DEFER, DONE, S, dropMapped, nativeScan, type NativeScan } from './native-scan.js';
import { isMapped, mapRange } from './blocks.js';
import { Words, learnUnit, nfkcStable, splitUnits, splitWords, unitBuffer } from './words.js';

export interface BlockResult {
  /**
   * The kept lines, each ending in "\n", and how many: a buffer of their own, or (when every line was
   * kept as it is) a view of the block itself.
   */
  kept: Uint8Array;
  keptLines: number;
  /** Removed evidence lines joined by "\n" ("" when none). */
  removed: string;
  counts: ScanCounts;
  hits: number[];
  /** Lines skipped as invalid (--skip-invalid). */
  skipped: number;
  /**
   * A range task's answer when every line was kept as it is: the kept bytes are the first `ownKept` bytes
   * of the block, which the main thread has mapped (`kept` is then empty).
   */
  ownKept?: number;
}

/** A field name the byte search can look for: no character JSON would have to escape. */
function plainKey(field: string): boolean {
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

const EMPTY: Buffer = Buffer.alloc(0);

export class BlockScanner {
  private readonly scanner: Scanner;
  private readonly key: Uint8Array | undefined;
  private readonly w = new Words();
  /** The block being scanned. */
  private buf = EMPTY;
  private out = EMPTY;
  private outLen = 0;
  /**
   * Every line so far was kept byte for byte: the output is buf[0, outLen), outLen is where the next
   * line starts, and `out` is not in use. Most blocks stay so, and are written without a copy.
   */
  private verbatim = true;
  private outLines = 0;
  private removed: string[] = [];
  private skipped = 0;
  private readonly lines: Line[] = [];
  private readonly native: NativeScan | undefined;
  private readonly state = new Int32Array(9);
  /** Lines the native scan handed back to the JS path (diagnostics, tests). */
  handedBack = 0;

  /** useNative false: the JS fast path only (tests compare the two). */
  constructor(
    private readonly index: NgramIndex,
    private readonly o: ScanOptions,
    useNative = true,
  ) {
    this.scanner = new Scanner(index, o);
    // Segment mode rewrites documents: it always takes the record path.
    this.key = o.mode === 'doc' && plainKey(o.textField) ? Buffer.from(o.textField, 'utf8') : undefined;
    this.native = this.key && useNative ? nativeScan(index, this.key) : undefined;
  }

  /** Whether blocks are scanned by the native addon (with the JS path for the lines it hands back). */
  get isNative(): boolean {
    return this.native !== undefined;
  }

  /** Scan buf, whole lines of `file`, the first being line `firstLine`; returns what the block gave. */
  scan(buf: Buffer, file: string, firstLine: number): BlockResult {
    this.buf = buf;
    this.verbatim = true;
    this.out = EMPTY;
    this.outLen = 0;
    this.outLines = 0;
    if (this.native) this.scanNative(this.native, buf, file, firstLine);
    else {
      let lineNo = firstLine;
      for (let s = 0; s < buf.length; lineNo++) {
        let nl = buf.indexOf(10, s);
        if (nl < 0) nl = buf.length;
        this.line(buf, s, nl, file, lineNo);
        s = nl + 1;
      }
    }
    const sc = this.scanner;
    const r: BlockResult = {
      // The writer (or the transfer from a worker) keeps this buffer: it is never reused here.
      kept: (this.verbatim ? buf : this.out).subarray(0, this.outLen),
      keptLines: this.outLines,
      removed: this.removed.join('\n'),
      counts: sc.counts,
      hits: sc.hits,
      skipped: this.skipped,
    };
    sc.counts = { ...sc.counts };
    for (const k of Object.keys(sc.counts) as (keyof ScanCounts)[]) sc.counts[k] = 0;
    sc.hits = sc.hits.map(() => 0);
    this.removed = [];
    this.skipped = 0;
    this.buf = this.out = EMPTY;
    return r;
  }

  /** Leave verbatim mode (before writing or dropping anything that is not the next line as it is). */
  private toCopy(): void {
    if (!this.verbatim) return;
    this.verbatim = false;
    // Each block's copied output gets a buffer of its own: the writer (or the transfer from a worker) keeps it.
    this.out = Buffer.allocUnsafe(Math.max(this.buf.length + 1, 4096));
    this.buf.copy(this.out, 0, 0, this.outLen);
  }

  /** The block through the native scan; the lines it hands back go through line(). */
  private scanNative(native: NativeScan, buf: Buffer, file: string, firstLine: number): void {
    const st = this.state;
    st[S.pos] = 0;
    st[S.end] = buf.length;
    st[S.line] = firstLine;
    // The last NEED (line, unit): asked again, learning did not settle it, and JS takes the line.
    let needPos = -1;
    let needUnit = -1;
    for (;;) {
      st[S.outLen] = this.outLen;
      st[S.kept] = 0;
      st[S.verbatim] = this.verbatim ? 1 : 0;
      native.scan(buf, this.out, st);
      const c = this.scanner.counts;
      c.docs_in += st[S.kept];
      c.docs_out += st[S.kept];
      this.outLines += st[S.kept];
      this.outLen = st[S.outLen];
      if (st[S.status] === DONE) return;
      if (st[S.status] === COPY) {
        this.toCopy();
        continue;
      }
      if (st[S.status] !== DEFER && (needPos !== st[S.pos] || needUnit !== st[S.unit])) {
        needPos = st[S.pos];
        needUnit = st[S.unit];
        learnUnit(needUnit);
        continue;
      }
      this.handedBack++;
      this.line(buf, st[S.pos], st[S.lineEnd], file, st[S.line]);
      st[S.pos] = st[S.lineEnd] + 1;
      st[S.line]++;
    }
  }

  /** Line lineNo, buf[s, e) without its "\n". */
  private line(buf: Buffer, s: number, e: number, file: string, lineNo: number): void {
    const key = this.key;
    let ls = s;
    let le = e;
    if (le > ls && buf[le - 1] === 0x0d) le--;
    if (lineNo === 1 && le - ls >= 3 && buf[ls] === 0xef && buf[ls + 1] === 0xbb && buf[ls + 2] === 0xbf) ls += 3;
    if (key && le > ls && buf[ls] === 0x7b) {
      const units = unitBuffer(le - ls);
      if (findText(buf, ls, le, key, units)) {
        const w = this.w;
        if (!found.nonAscii || nfkcStable(units, found.length)) splitUnits(units, found.length, w);
        // Units as they are (lone surrogates too): the string JSON.parse would give, for NFKC.
        else splitWords(Buffer.from(units.buffer, units.byteOffset, 2 * found.length).toString('utf16le'), w);
        if (!this.index.firstHit(w)) {
          const c = this.scanner.counts;
          c.docs_in++;
          c.docs_out++;
          if (this.verbatim && ls === s && le === e && e < buf.length) {
            this.outLen = e + 1;
            this.outLines++;
            return;
          }
          this.toCopy();
          this.reserve(this.outLen + le - ls + 1);
          this.outLen += buf.copy(this.out, this.outLen, ls, le);
          this.out[this.outLen++] = 0x0a;
          this.outLines++;
          return;
        }
      }
    }
    this.recordPath(buf, s, e, file, lineNo);
  }

  /** The line through the record path: decoded and parsed as JsonlRecord readers do, then scan.ts. */
  private recordPath(buf: Buffer, s: number, e: number, file: string, lineNo: number): void {
    this.toCopy();
    const lines = this.lines;
    lines.length = 0;
    if (!decodeLine(buf, s, e, file, lineNo, lines, this.o.skipInvalid)) {
      this.skipped++;
      return;
    }
    if (!lines.length) return; // blank
    const l = lines[0];
    let value;
    try {
      value = parseLine(l.text, at(file, lineNo));
    } catch (e) {
      if (!this.o.skipInvalid || !(e instanceof DataError)) throw e;
      this.skipped++;
      return;
    }
    const sc = this.scanner;
    sc.record({ value, raw: l.text, file, line: lineNo });
    const { kept, removed } = sc.drain();
    for (const k of kept) {
      this.reserve(this.outLen + Buffer.byteLength(k) + 1);
      this.outLen += this.out.write(k, this.outLen, 'utf8');
      this.out[this.outLen++] = 0x0a;
      this.outLines++;
    }
    for (const r of removed) this.removed.push(r);
  }

  private reserve(n: number): void {
    if (this.out.length >= n) return;
    const bigger = Buffer.allocUnsafe(Math.max(n, 2 * this.out.length));
    this.out.copy(bigger, 0, 0, this.outLen);
    this.out = bigger;
  }
}

/**
 * A block of whole lines to scan: its bytes (`buf`; with workers it owns its ArrayBuffer, which is moved,
 * not copied), or, for a block of a mapped file, where it lies in `file` (`range`): the worker maps those
 * bytes itself (blocks.ts mapRange) and the main thread keeps its own view of them.
 */
export interface BlockTask {
  file: string;
  firstLine: number;
  buf?: Uint8Array;
  range?: { offset: number; length: number; fileId: string };
}

export interface ScanWorkerData {
  /** The index in shared memory, or the index file for each worker to map (the same page-cache pages). */
  index: SharedArrayBuffer | { path: string; crc: number };
  opts: ScanOptions;
}

/**
 * A buffer that is the whole of its ArrayBuffer, as a transfer needs (Node pools small buffers; a file
 * mapping stays with the thread that mapped it).
 */
export function owned(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !isMapped(b) ? b : new Uint8Array(b);
}

/**
 * The pool's handler: one BlockScanner per thread; kept bytes move back to the main thread. A range task
 * whose lines were all kept as they are answers only how many of its bytes that is (`ownKept`): the main
 * thread writes them from its own mapping.
 */
export function blockHandler(index: NgramIndex, opts: ScanOptions): Handler<BlockTask, BlockResult> {
  const scanner = new BlockScanner(index, opts);
  return {
    run: (t) => {
      if (!t.range) return scanner.scan(Buffer.from(t.buf!.buffer, t.buf!.byteOffset, t.buf!.byteLength), t.file, t.firstLine);
      const { ab, buf } = mapRange(t.file, t.range.fileId, t.range.offset, t.range.length);
      try {
        const r = scanner.scan(buf, t.file, t.firstLine);
        // A fresh empty buffer: the transfer below detaches it.
        return r.kept.buffer === ab ? { ...r, kept: new Uint8Array(0), ownKept: r.kept.length } : r;
      } finally {
        dropMapped(ab);
      }
    },
    transfer: (r) => (r.kept.byteOffset === 0 ? [r.kept.buffer as ArrayBuffer] : []),
  };
}
