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
import { BATCH_OUT, COPY, DEFER, DONE, S, SPEC, nativeScan, viewMapped, type NativeScan } from './native-scan.js';
import { isMapped } from './blocks.js';
import { Words, learnUnit, nfkcStable, splitUnits, splitWords, unitBuffer } from './words.js';

/**
 * The kept output as it travels back from a worker: a view of the block as its [start, end) in it (the main
 * thread views the same bytes), or bytes of their own (moved, not copied).
 */
export type Piece = Uint8Array | [number, number];

/** A block of whole lines of `file`, the first being line `firstLine`. */
export interface ScanBlock {
  buf: Buffer;
  file: string;
  firstLine: number;
}

/** A block submitted to the batch scan, until complete(). */
export interface Pending {
  block: ScanBlock;
  spec: Int32Array;
  out: Int32Array;
  job: number;
}

export interface BlockResult {
  /**
   * The kept lines, each ending in "\n", in order: views of the block for runs of lines kept as they are
   * (most blocks are one such view), bytes of their own for lines rewritten or copied. From a worker, views
   * of the block arrive as ranges (Piece); `resolveKept` turns them back into views.
   */
  kept: Piece[];
  keptLines: number;
  /** Removed evidence lines joined by "\n" ("" when none). */
  removed: string;
  counts: ScanCounts;
  hits: number[];
  /** Lines skipped as invalid (--skip-invalid). */
  skipped: number;
  /** From a worker, for a task sent as bytes: those bytes, moved back (the ranges in `kept` are of them). */
  block?: Uint8Array;
}

/** The kept lines of `r` as views: ranges are of `block` (the task's bytes, or this thread's view of them). */
export function resolveKept(r: BlockResult, block: Uint8Array | undefined): Uint8Array[] {
  return r.kept.map((p) => (p instanceof Uint8Array ? p : block!.subarray(p[0], p[1])));
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
/**
 * Lines per block a batch scan can record (80 KB): a block of "\r\n" lines records every line, and lines past
 * this many are scanned on this thread.
 */
const SPEC_ROOM = 4096;

export class BlockScanner {
  private readonly scanner: Scanner;
  private readonly key: Uint8Array | undefined;
  private readonly w = new Words();
  /** The block being scanned. */
  private buf = EMPTY;
  /** The kept output before the open piece. */
  private pieces: Uint8Array[] = [];
  /**
   * Run mode: the open piece is buf[runStart, outLen), lines kept as they are, and outLen is where the next
   * line starts. Most blocks stay so, written as one view of themselves; a dropped line only closes the run.
   * Copy mode (a "\r" or byte order mark to drop): kept lines are copied, the open piece is out[outStart, outLen).
   */
  private verbatim = true;
  private runStart = 0;
  private out = EMPTY;
  private outStart = 0;
  private outLen = 0;
  private outLines = 0;
  private removed: string[] = [];
  private skipped = 0;
  private readonly lines: Line[] = [];
  private readonly native: NativeScan | undefined;
  private readonly state = new Int32Array(9);
  /** Lines the native scan handed back to the JS path (diagnostics, tests). */
  handedBack = 0;
  /** Arrays a batch scan records a block's lines not kept as they are in, free for the next block. */
  private readonly specs: Int32Array[] = [];

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
    this.begin(buf);
    if (this.native) this.scanNative(this.native, buf, file, firstLine, 0, buf.length);
    else {
      let lineNo = firstLine;
      for (let s = 0; s < buf.length; lineNo++) {
        let nl = buf.indexOf(10, s);
        if (nl < 0) nl = buf.length;
        this.line(buf, s, nl, file, lineNo);
        s = nl + 1;
      }
    }
    return this.end();
  }

  /**
   * A block the native batch scan has been through: its lines kept as they are (`kept` of them, up to `stop`)
   * go out as runs of the block; each recorded line (`count` in spec) and the rest of the block from `stop`
   * (line `stopLine`) go through the native scan one by one here. The same result as scan().
   */
  private finish(buf: Buffer, file: string, spec: Int32Array, count: number, kept: number, stop: number, stopLine: number): BlockResult {
    const native = this.native!;
    this.begin(buf);
    const c = this.scanner.counts;
    c.docs_in += kept;
    c.docs_out += kept;
    this.outLines += kept;
    let at = 0;
    for (let i = 0; i < SPEC * count; i += SPEC) {
      const pos = spec[i];
      const end = spec[i + 1];
      const next = Math.min(end + 1, buf.length);
      this.keepRun(buf, at, pos);
      if (spec[i + 2] === COPY) {
        // Clean, but not its own output: copied without its "\r" or byte order mark, with a "\n".
        const ls = spec[i + 4] === 1 && end - pos >= 3 && buf[pos] === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf ? pos + 3 : pos;
        const le = end > ls && buf[end - 1] === 0x0d ? end - 1 : end;
        c.docs_in++;
        c.docs_out++;
        this.outLines++;
        this.copyLine(buf, ls, le, end + 1);
      } else this.scanNative(native, buf, file, spec[i + 4], pos, next);
      at = next;
    }
    this.keepRun(buf, at, stop);
    if (stop < buf.length) this.scanNative(native, buf, file, stopLine, stop, buf.length);
    return this.end();
  }

  /**
   * Queue a block for the addon's batch threads (`threads` besides this one): natively scanned while this
   * thread goes on; complete() waits for it and gives its result, the same as scan() would.
   */
  submit(block: ScanBlock, threads: number): Pending {
    const spec = this.specs.pop() ?? new Int32Array(SPEC * SPEC_ROOM);
    const out = new Int32Array(BATCH_OUT);
    return { block, spec, out, job: this.native!.submit(block.buf, block.firstLine, spec, out, threads) };
  }

  /**
   * The result of a submitted block: once its native scan is done (this thread scans queued blocks while it
   * waits), its lines kept as they are (`kept` of them, up to where the scan stopped) go out as runs of the
   * block, and each recorded line and the rest of the block past the stop go through the native scan one by
   * one here, which hands them to the JS path or learns what they need, as scan() does.
   */
  complete(p: Pending): BlockResult {
    this.abandon(p);
    const { block, spec, out } = p;
    const r = this.finish(block.buf, block.file, spec, out[1], out[0], out[2], out[3]);
    this.specs.push(spec);
    return r;
  }

  /** Wait for a submitted block without using its result (a run that stops early must not leave it in a thread). */
  abandon(p: Pending): void {
    if (p.job >= 0) this.native!.wait(p.job);
    p.job = -1;
  }

  /** Blocks through submit() and complete(), in order (tests; the pool streams them). */
  scanBatch(blocks: readonly ScanBlock[], threads: number): BlockResult[] {
    const pending = blocks.map((b) => this.submit(b, threads));
    try {
      return pending.map((p) => this.complete(p));
    } finally {
      for (const p of pending) this.abandon(p);
    }
  }

  private begin(buf: Buffer): void {
    this.buf = buf;
    this.verbatim = true;
    this.runStart = 0;
    this.out = EMPTY;
    this.outStart = 0;
    this.outLen = 0;
    this.outLines = 0;
  }

  /** Lines buf[from, to) (each ending in "\n") kept as they are, already counted: the run grows, or they are copied. */
  private keepRun(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.verbatim) {
      this.outLen = to;
      return;
    }
    this.reserve(to - from);
    this.outLen += buf.copy(this.out, this.outLen, from, to);
  }

  private end(): BlockResult {
    const sc = this.scanner;
    this.closePiece();
    const r: BlockResult = {
      // The writer (or the transfer from a worker) keeps these bytes: none is reused here.
      kept: this.pieces,
      keptLines: this.outLines,
      removed: this.removed.join('\n'),
      counts: sc.counts,
      hits: sc.hits,
      skipped: this.skipped,
    };
    sc.counts = { ...sc.counts };
    for (const k of Object.keys(sc.counts) as (keyof ScanCounts)[]) sc.counts[k] = 0;
    sc.hits = sc.hits.map(() => 0);
    this.pieces = [];
    this.removed = [];
    this.skipped = 0;
    this.buf = this.out = EMPTY;
    return r;
  }

  /** End the open piece of output (a run of the block, or what was copied to out) and add it to the pieces. */
  private closePiece(): void {
    if (this.verbatim) {
      if (this.outLen > this.runStart) this.pieces.push(this.buf.subarray(this.runStart, this.outLen));
      this.runStart = this.outLen;
    } else {
      if (this.outLen > this.outStart) this.pieces.push(this.out.subarray(this.outStart, this.outLen));
      this.outStart = this.outLen;
    }
  }

  /** Run mode: nothing more of the block up to `next` (where the next line starts, or past the end) goes out as it is. */
  private skipTo(next: number): void {
    this.closePiece();
    this.runStart = this.outLen = Math.min(next, this.buf.length);
  }

  /** Enter copy mode: later kept lines are copied to a buffer of this block's own, with room for all of it. */
  private toCopy(): void {
    if (!this.verbatim) return;
    this.closePiece();
    this.verbatim = false;
    // Never from Node's shared pool (allocUnsafeSlow): a worker moves these bytes to the main thread.
    this.out = Buffer.allocUnsafeSlow(Math.max(this.buf.length + 1, 4096));
    this.outStart = this.outLen = 0;
  }

  /**
   * Kept bytes buf[ls, le) and a "\n", which are not the line as it is (a "\r" or byte order mark dropped, or
   * the "\n" missing at the end of the input): copied. In run mode that is the block's last line (next is past
   * its end): it becomes a piece of its own; any other such line puts the block in copy mode first.
   */
  private copyLine(buf: Buffer, ls: number, le: number, next: number): void {
    if (this.verbatim && next <= buf.length) this.toCopy();
    if (this.verbatim) {
      const line = Buffer.allocUnsafeSlow(le - ls + 1);
      buf.copy(line, 0, ls, le);
      line[le - ls] = 0x0a;
      this.closePiece();
      this.pieces.push(line);
      this.runStart = this.outLen = buf.length;
      return;
    }
    this.reserve(le - ls + 1);
    this.outLen += buf.copy(this.out, this.outLen, ls, le);
    this.out[this.outLen++] = 0x0a;
  }

  /** Lines buf[from, to) (the first is line `firstLine`) through the native scan; those it hands back go through line(). */
  private scanNative(native: NativeScan, buf: Buffer, file: string, firstLine: number, from: number, to: number): void {
    const st = this.state;
    st[S.pos] = from;
    st[S.end] = to;
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
      // A clean line that is not its own output: the file's last line without its "\n" is copied alone;
      // otherwise ("\r\n" line ends, a byte order mark) the rest of the block is copied.
      if (st[S.status] === COPY && st[S.lineEnd] < buf.length) {
        this.toCopy();
        continue;
      }
      if (st[S.status] !== DEFER && st[S.status] !== COPY && (needPos !== st[S.pos] || needUnit !== st[S.unit])) {
        needPos = st[S.pos];
        needUnit = st[S.unit];
        learnUnit(needUnit);
        continue;
      }
      if (st[S.status] !== COPY) this.handedBack++;
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
          this.outLines++;
          if (ls === s && le === e && e < buf.length) this.keepAsIs(buf, s, e);
          else this.copyLine(buf, ls, le, e + 1);
          return;
        }
      }
    }
    this.recordPath(buf, s, e, file, lineNo);
  }

  /** The line through the record path: decoded and parsed as JsonlRecord readers do, then scan.ts. */
  private recordPath(buf: Buffer, s: number, e: number, file: string, lineNo: number): void {
    const kept = this.decide(buf, s, e, file, lineNo);
    if (!kept) {
      if (this.verbatim) this.skipTo(e + 1);
      return;
    }
    this.outLines += kept.length;
    // The line itself, kept (decodeLine refuses invalid UTF-8, so its text encodes back to the same bytes).
    if (kept.length === 1 && kept[0] === this.lines[0].text && e < buf.length && Buffer.byteLength(kept[0]) === e - s) {
      this.keepAsIs(buf, s, e);
      return;
    }
    // Rewritten (segment mode): the rest of the block is copied.
    this.toCopy();
    for (const k of kept) {
      const n = Buffer.byteLength(k);
      this.reserve(n + 1);
      this.outLen += this.out.write(k, this.outLen, n, 'utf8');
      this.out[this.outLen++] = 0x0a;
    }
  }

  /** Line buf[s, e) and its "\n" go out as they are: the run grows (run mode), or they are copied. */
  private keepAsIs(buf: Buffer, s: number, e: number): void {
    if (this.verbatim) {
      this.outLen = e + 1;
      return;
    }
    this.reserve(e + 1 - s);
    this.outLen += buf.copy(this.out, this.outLen, s, e + 1);
  }

  /** What the record path keeps of line lineNo (rewritten lines, or undefined for none). */
  private decide(buf: Buffer, s: number, e: number, file: string, lineNo: number): string[] | undefined {
    const lines = this.lines;
    lines.length = 0;
    if (!decodeLine(buf, s, e, file, lineNo, lines, this.o.skipInvalid)) {
      this.skipped++;
      return undefined;
    }
    if (!lines.length) return undefined; // blank
    const l = lines[0];
    let value;
    try {
      value = parseLine(l.text, at(file, lineNo));
    } catch (err) {
      if (!this.o.skipInvalid || !(err instanceof DataError)) throw err;
      this.skipped++;
      return undefined;
    }
    const sc = this.scanner;
    sc.record({ value, raw: l.text, file, line: lineNo });
    const { kept, removed } = sc.drain();
    for (const r of removed) this.removed.push(r);
    return kept.length ? kept : undefined;
  }

  /** Copy mode: room for `extra` more bytes in out (a full buffer is closed as a piece, and a new one begun). */
  private reserve(extra: number): void {
    if (this.outLen + extra <= this.out.length) return;
    this.closePiece();
    this.out = Buffer.allocUnsafeSlow(Math.max(extra, this.out.length, 4096));
    this.outStart = this.outLen = 0;
  }
}

/**
 * A block of whole lines to scan: its bytes (`buf`; with workers it owns its ArrayBuffer, which is moved,
 * not copied), or, for a block of a mapped file, where the main thread's mapping holds it (`mapped`): a worker
 * views those bytes in place (native-scan viewMapped), and the main thread keeps its mapping until the answer.
 */
export interface BlockTask {
  file: string;
  firstLine: number;
  buf?: Uint8Array;
  mapped?: { address: number; length: number };
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

/** r with the pieces of `kept` that view `block` given as ranges of it (any thread can view the same bytes). */
function asRanges(r: BlockResult, block: Uint8Array): BlockResult {
  const kept = r.kept.map((p): Piece => (p instanceof Uint8Array && p.buffer === block.buffer ? [p.byteOffset - block.byteOffset, p.byteOffset - block.byteOffset + p.byteLength] : p));
  return { ...r, kept };
}

/**
 * The pool's handler: one BlockScanner per thread. Kept runs of the block answer as ranges of it: the main
 * thread views them in its own mapping (a mapped block) or in the task's bytes, which move back with the
 * result (`block`); copied bytes move back too. Nothing kept is copied to cross threads. `viewOf`: on the main
 * thread, its view of a mapped block.
 */
export function blockHandler(index: NgramIndex, opts: ScanOptions, viewOf?: (t: BlockTask) => Uint8Array | undefined): Handler<BlockTask, BlockResult> {
  const scanner = new BlockScanner(index, opts);
  return {
    run: (t) => {
      // The main thread's own view of a mapped block, or a worker's view of the same bytes.
      if (t.mapped) {
        const view = viewOf?.(t);
        const buf = view ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : Buffer.from(viewMapped(t.mapped.address, t.mapped.length));
        return asRanges(scanner.scan(buf, t.file, t.firstLine), buf);
      }
      const buf = Buffer.from(t.buf!.buffer, t.buf!.byteOffset, t.buf!.byteLength);
      return { ...asRanges(scanner.scan(buf, t.file, t.firstLine), buf), block: t.buf };
    },
    transfer: (r) => {
      const moved = new Set<ArrayBuffer>();
      for (const p of r.kept) if (p instanceof Uint8Array) moved.add(p.buffer as ArrayBuffer);
      if (r.block) moved.add(r.block.buffer as ArrayBuffer);
      return [...moved];
    },
  };
}
