// WARC record framing over decompressed pieces (see gzip.ts). Written here rather than taken from warcio
// because warcio silently stops at a truncated gzip member, returns clipped bodies as if complete, and
// cannot read LF-only files; a miner over millions of records needs each bad record named and skipped.
import { ByteBuffer, gzipMembers, plainPieces, sniffGzip, type Piece, type PieceError } from './gzip.js';

export type WarcHeaders = Map<string, string>;

export interface WarcRecord {
  /** Offset of the record in the raw input (gzip: where its member starts). */
  offset: number;
  /** Raw length: the gzip member's compressed length, or the record's bytes in plain input. */
  length: number;
  headers: WarcHeaders;
  block: Buffer;
}

export interface WarcError {
  offset: number;
  error: string;
  /** WARC-Record-ID when the headers could be read. */
  id?: string;
}

const MAX_HEADER = 1 << 20;
/** Default for the largest record (decoded) that is read; larger ones are bad records (`mine --max-record-size`). */
export const MAX_RECORD = 50 << 20;
const WARC_LINE = Buffer.from('WARC/');
const NL_WARC = Buffer.from('\nWARC/');

interface Member {
  dStart: number;
  rawOffset: number;
  rawLength: number;
  member: boolean;
  streamed: boolean;
}

/** Parse "Name: value" lines (continuation lines folded in); names lowercased, first value wins. */
export function parseHeaderLines(text: string): WarcHeaders {
  const h: WarcHeaders = new Map();
  let last = '';
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      h.set(last, `${h.get(last)} ${line.trim()}`);
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    last = line.slice(0, c).trim().toLowerCase();
    if (!h.has(last)) h.set(last, line.slice(c + 1).trim());
  }
  return h;
}

function isWs(x: number): boolean {
  return x === 0x0a || x === 0x0d || x === 0x20 || x === 0x09;
}

/** An error item; the id only when the headers could be read. */
function warcError(offset: number, error: string, id: string | undefined): WarcError {
  return id ? { offset, error, id } : { offset, error };
}

/** A record or error, and the decompressed position where the next record may start. */
interface Step {
  item: WarcRecord | WarcError;
  next: number;
}

/**
 * Read WARC records from a byte source (gzip per record, gzip multi-member, or plain; CRLF or LF).
 * `start` is the raw offset of the first byte (non-zero for byte-range reads). A record whose block is
 * longer than `maxRecord` bytes is an error, and is skipped without being held in memory.
 */
export async function* readWarc(source: AsyncIterable<Buffer>, start = 0, maxRecord = MAX_RECORD): AsyncGenerator<WarcRecord | WarcError> {
  const raw = new ByteBuffer(source[Symbol.asyncIterator](), start);
  const gz = await sniffGzip(raw);
  const pieces = (gz ? gzipMembers(raw, maxRecord) : plainPieces(raw))[Symbol.asyncIterator]();
  yield* new WarcReader(pieces, gz, start, maxRecord).records();
}

/**
 * The decompressed stream as a window of bytes addressed by absolute decompressed position (d[0] is at
 * dBase), the members those bytes came from (to name raw offsets and lengths), and the framing of records on it.
 */
class WarcReader {
  private d: Buffer = Buffer.alloc(0);
  private dBase = 0;
  private members: Member[] = [];
  private eof = false;
  /** Lost (corrupt) members, reported before the next record. */
  private readonly pendingErrors: WarcError[] = [];
  /** Decompressed position where data after a lost member begins; records may not span it. */
  private gapAt = -1;

  constructor(
    private readonly pieces: AsyncIterator<Piece | PieceError>,
    private readonly gz: boolean,
    private readonly start: number,
    private readonly maxRecord: number,
  ) {}

  async *records(): AsyncGenerator<WarcRecord | WarcError> {
    let pos = this.dBase;
    for (;;) {
      yield* this.takeErrors();
      pos = await this.skipBlank(pos);
      yield* this.takeErrors();
      if (pos >= this.dEnd()) return;
      this.drop(pos);
      if (this.gapAt >= 0 && this.gapAt <= pos) this.gapAt = -1;
      const step = await this.record(pos);
      pos = step.next;
      yield step.item;
    }
  }

  private takeErrors(): WarcError[] {
    return this.pendingErrors.splice(0);
  }

  private dEnd(): number {
    return this.dBase + this.d.length;
  }

  /** Append the next piece; false at the end of the input. */
  private async pull(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.pieces.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    const p = r.value;
    if ('error' in p) {
      this.pendingErrors.push({ offset: p.rawOffset, error: p.error });
      this.gapAt = this.dEnd();
      return true;
    }
    // One entry per member: the pieces of a streamed member continue the entry of its first piece.
    const last = this.members[this.members.length - 1];
    if (!(p.streamed && last?.streamed && last.rawOffset === p.rawOffset)) {
      this.members.push({ dStart: this.dEnd(), rawOffset: p.rawOffset, rawLength: p.rawLength, member: p.member, streamed: p.streamed === true });
    }
    this.d = this.d.length ? Buffer.concat([this.d, p.data]) : p.data;
    return true;
  }

  /** Hold data up to `upTo`; false when the input ends before. */
  private async need(upTo: number): Promise<boolean> {
    while (this.dEnd() < upTo) if (!(await this.pull())) return false;
    return true;
  }

  private memberAt(pos: number): Member | undefined {
    let m: Member | undefined;
    for (const x of this.members) {
      if (x.dStart <= pos) m = x;
      else break;
    }
    return m;
  }

  private rawOffsetOf(pos: number): number {
    const m = this.memberAt(pos);
    if (!m) return this.start;
    return m.member ? m.rawOffset : m.rawOffset + (pos - m.dStart);
  }

  /** Let go of the data before `pos`. */
  private drop(pos: number): void {
    if (pos <= this.dBase) return;
    const cut = Math.min(pos, this.dEnd());
    this.d = this.d.subarray(cut - this.dBase);
    this.dBase = cut;
    // Keep the member that contains dBase.
    let i = 0;
    while (i + 1 < this.members.length && this.members[i + 1]!.dStart <= this.dBase) i++;
    if (i) this.members = this.members.slice(i);
  }

  /** The first member that starts after `from` (gzip input only). */
  private memberAfter(from: number): Member | undefined {
    return this.gz ? this.members.find((x) => x.dStart > from) : undefined;
  }

  /**
   * Move to `to` without holding what lies before it; stop early where a block read from `from` would
   * end anyway (a new gzip member, a lost one, the end of the input). Returns where it stopped.
   */
  private async skipTo(from: number, to: number): Promise<number> {
    for (;;) {
      const m = this.memberAfter(from);
      const stop = Math.min(to, m ? m.dStart : to, this.gapAt > from ? this.gapAt : to);
      if (stop <= this.dEnd()) {
        this.drop(stop);
        return stop;
      }
      this.drop(this.dEnd());
      if (!(await this.pull())) return this.dEnd();
    }
  }

  /**
   * Next record start after a framing error: the next gzip member, or (plain input, streamed member)
   * the next "WARC/" line if it comes first. -1 when there is none.
   */
  private async resync(from: number): Promise<number> {
    const scan = !this.gz || this.memberAt(from)?.streamed === true;
    for (;;) {
      const m = this.memberAfter(from);
      const i = scan ? this.d.indexOf(NL_WARC, Math.max(0, from - this.dBase)) : -1;
      if (i >= 0 && (!m || i + this.dBase < m.dStart)) return i + this.dBase + 1;
      if (m) return m.dStart;
      // Bytes searched are not needed again: a long stretch without a match must not pile up in memory.
      if (scan) this.drop(Math.max(from, this.dEnd() - NL_WARC.length + 1));
      if (!(await this.pull())) return -1;
    }
  }

  /** Past the blank lines between records. */
  private async skipBlank(pos: number): Promise<number> {
    for (;;) {
      if (pos >= this.dEnd()) this.drop(pos);
      if (pos >= this.dEnd() && !(await this.need(pos + 1))) return pos;
      if (!isWs(this.d[pos - this.dBase]!)) return pos;
      pos++;
    }
  }

  /** A framing error of the record at recStart: report it and go on where the next record can be found. */
  private async fail(recStart: number, offset: number, error: string, id?: string): Promise<Step> {
    const next = await this.resync(recStart);
    if (next < 0) this.eof = true;
    return { item: warcError(offset, error, id), next: next < 0 ? this.dEnd() : next };
  }

  /** The record at recStart (data before it already dropped). */
  private async record(recStart: number): Promise<Step> {
    const offset = this.rawOffsetOf(recStart);
    await this.need(recStart + WARC_LINE.length);
    if (!this.d.subarray(0, WARC_LINE.length).equals(WARC_LINE)) return this.fail(recStart, offset, 'malformed record: expected a "WARC/1.x" version line');
    const h = await this.headerEnd(recStart);
    if (!h) return this.fail(recStart, offset, this.eof ? 'truncated record: input ends inside the WARC headers' : 'malformed record: no end of WARC headers');
    const headers = parseHeaderLines(this.d.toString('latin1', 0, h.end - this.dBase));
    const id = headers.get('warc-record-id');
    const clText = headers.get('content-length');
    const cl = clText !== undefined && /^\d+$/.test(clText) ? Number(clText) : NaN;
    if (!Number.isSafeInteger(cl)) return this.fail(recStart, offset, `malformed record: ${clText === undefined ? 'missing' : 'invalid'} Content-Length`, id);
    if (cl > this.maxRecord) {
      const error = `record too large: Content-Length ${cl} is over --max-record-size ${this.maxRecord} bytes`;
      // A whole member holds the record (and lies about its length): go on at the next member. In a stream,
      // step over the block without keeping it.
      if (this.gz && !this.memberAt(recStart)?.streamed) return this.fail(recStart, offset, error, id);
      return { item: warcError(offset, error, id), next: await this.skipTo(recStart, h.body + cl) };
    }
    const blockEnd = h.body + cl;
    const complete = await this.need(blockEnd);
    const clippedAt = this.clippedAt(h.body, blockEnd);
    if (clippedAt >= 0) return { item: warcError(offset, `clipped record: Content-Length ${cl} but the block ends after ${clippedAt - h.body} bytes`, id), next: clippedAt };
    if (!complete) return { item: warcError(offset, `truncated record: Content-Length ${cl} but the input ends after ${this.dEnd() - h.body} bytes`, id), next: this.dEnd() };
    const q = await this.blanksAfter(blockEnd);
    const wrong = await this.notARecordAt(q);
    if (wrong !== undefined) return this.fail(recStart, offset, `Content-Length ${cl} does not match the record: ${JSON.stringify(wrong)}... follows its block instead of the next record`, id);
    const block = this.d.subarray(h.body - this.dBase, blockEnd - this.dBase);
    const m = this.memberAt(recStart);
    const length = m && m.member && !m.streamed && m.dStart === recStart ? m.rawLength : q - recStart;
    return { item: { offset, length, headers, block }, next: blockEnd };
  }

  /** Headers end at the first blank line (CRLF CRLF, or LF LF in LF-only files): its position and the block's. */
  private async headerEnd(recStart: number): Promise<{ end: number; body: number } | undefined> {
    for (let from = recStart; ; ) {
      const i = this.d.indexOf(0x0a, from - this.dBase);
      if (i < 0) {
        if (this.dEnd() - recStart > MAX_HEADER || !(await this.pull())) return undefined;
        continue;
      }
      const nl = i + this.dBase;
      const next = nl + 1;
      if (!(await this.need(next + 2)) && next >= this.dEnd()) return undefined;
      const a = this.d[next - this.dBase];
      if (a === 0x0a) return { end: nl, body: next + 1 };
      if (a === 0x0d && this.d[next + 1 - this.dBase] === 0x0a) return { end: nl, body: next + 2 };
      from = next;
    }
  }

  /** Where a block may not run past: a lost member, or (gzip) a member that starts a new record; -1 for none. */
  private clippedAt(bodyStart: number, blockEnd: number): number {
    if (this.gapAt > bodyStart && this.gapAt < blockEnd) return this.gapAt;
    if (!this.gz) return -1;
    for (const m of this.members) {
      if (!m.streamed && m.dStart > bodyStart && m.dStart < Math.min(blockEnd, this.dEnd()) && this.d.subarray(m.dStart - this.dBase, m.dStart - this.dBase + 5).equals(WARC_LINE)) return m.dStart;
    }
    return -1;
  }

  /** The end of the blank lines after a block (only so far: the block is held meanwhile, and they may be a flood). */
  private async blanksAfter(blockEnd: number): Promise<number> {
    let q = blockEnd;
    for (;;) {
      if (q >= this.dEnd() && (q - blockEnd > MAX_HEADER || !(await this.need(q + 1)))) return q;
      if (!isWs(this.d[q - this.dBase]!)) return q;
      q++;
    }
  }

  /**
   * A block must be followed by the next record (or the end): otherwise Content-Length is wrong and the block
   * holds part of a neighbour or misses its own tail. Returns the bytes found at q instead, or undefined.
   */
  private async notARecordAt(q: number): Promise<string | undefined> {
    // In gzip input the next member is judged on its own: a member that ends right after the block is fine.
    const atMember = this.gz && (this.gapAt === q || this.members.some((m) => m.dStart === q && !m.streamed));
    if (q >= this.dEnd() || atMember) return undefined;
    await this.need(q + WARC_LINE.length);
    const after = this.d.subarray(q - this.dBase, q - this.dBase + WARC_LINE.length);
    return after.equals(WARC_LINE) ? undefined : after.toString('latin1');
  }
}
