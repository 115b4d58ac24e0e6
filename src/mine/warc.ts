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

/**
 * Read WARC records from a byte source (gzip per record, gzip multi-member, or plain; CRLF or LF).
 * `start` is the raw offset of the first byte (non-zero for byte-range reads). A record whose block is
 * longer than `maxRecord` bytes is an error, and is skipped without being held in memory.
 */
export async function* readWarc(source: AsyncIterable<Buffer>, start = 0, maxRecord = MAX_RECORD): AsyncGenerator<WarcRecord | WarcError> {
  const raw = new ByteBuffer(source[Symbol.asyncIterator](), start);
  const gz = await sniffGzip(raw);
  const pieces: AsyncIterator<Piece | PieceError> = (gz ? gzipMembers(raw, maxRecord) : plainPieces(raw))[Symbol.asyncIterator]();

  // Decompressed data, addressed by absolute decompressed position, and the members it came from.
  let d: Buffer = Buffer.alloc(0);
  let dBase = 0;
  let members: Member[] = [];
  let eof = false;
  const pendingErrors: WarcError[] = [];
  /** Decompressed position where data after a lost (corrupt) member begins; records may not span it. */
  let gapAt = -1;

  const dEnd = () => dBase + d.length;
  const pull = async (): Promise<boolean> => {
    if (eof) return false;
    const r = await pieces.next();
    if (r.done) {
      eof = true;
      return false;
    }
    const p = r.value;
    if ('error' in p) {
      pendingErrors.push({ offset: p.rawOffset, error: p.error });
      gapAt = dEnd();
      return true;
    }
    // One entry per member: the pieces of a streamed member continue the entry of its first piece.
    const last = members[members.length - 1];
    if (!(p.streamed && last?.streamed && last.rawOffset === p.rawOffset)) {
      members.push({ dStart: dEnd(), rawOffset: p.rawOffset, rawLength: p.rawLength, member: p.member, streamed: p.streamed === true });
    }
    d = d.length ? Buffer.concat([d, p.data]) : p.data;
    return true;
  };
  const need = async (upTo: number): Promise<boolean> => {
    while (dEnd() < upTo) if (!(await pull())) return false;
    return true;
  };
  const memberAt = (pos: number): Member | undefined => {
    let m: Member | undefined;
    for (const x of members) {
      if (x.dStart <= pos) m = x;
      else break;
    }
    return m;
  };
  const rawOffsetOf = (pos: number): number => {
    const m = memberAt(pos);
    if (!m) return start;
    return m.member ? m.rawOffset : m.rawOffset + (pos - m.dStart);
  };
  const drop = (pos: number) => {
    if (pos <= dBase) return;
    const cut = Math.min(pos, dEnd());
    d = d.subarray(cut - dBase);
    dBase = cut;
    // Keep the member that contains dBase.
    let i = 0;
    while (i + 1 < members.length && members[i + 1]!.dStart <= dBase) i++;
    if (i) members = members.slice(i);
  };
  /**
   * Move to `to` without holding what lies before it; stop early where a block read from `from` would
   * end anyway (a new gzip member, a lost one, the end of the input). Returns where it stopped.
   */
  const skipTo = async (from: number, to: number): Promise<number> => {
    for (;;) {
      const m = gz ? members.find((x) => x.dStart > from) : undefined;
      const stop = Math.min(to, m ? m.dStart : to, gapAt > from ? gapAt : to);
      if (stop <= dEnd()) {
        drop(stop);
        return stop;
      }
      drop(dEnd());
      if (!(await pull())) return dEnd();
    }
  };
  /**
   * Next record start after a framing error: the next gzip member, or (plain input, streamed member)
   * the next "WARC/" line if it comes first.
   */
  const resync = async (from: number): Promise<number> => {
    const scan = !gz || memberAt(from)?.streamed === true;
    for (;;) {
      const m = gz ? members.find((x) => x.dStart > from) : undefined;
      const i = scan ? d.indexOf(NL_WARC, Math.max(0, from - dBase)) : -1;
      if (i >= 0 && (!m || i + dBase < m.dStart)) return i + dBase + 1;
      if (m) return m.dStart;
      // Bytes searched are not needed again: a long stretch without a match must not pile up in memory.
      if (scan) drop(Math.max(from, dEnd() - NL_WARC.length + 1));
      if (!(await pull())) return -1;
    }
  };

  let pos = dBase;
  for (;;) {
    while (pendingErrors.length) yield pendingErrors.shift()!;
    // Skip blank lines between records.
    for (;;) {
      if (pos >= dEnd()) drop(pos);
      if (pos >= dEnd() && !(await need(pos + 1))) break;
      if (!isWs(d[pos - dBase]!)) break;
      pos++;
    }
    while (pendingErrors.length) yield pendingErrors.shift()!;
    if (pos >= dEnd()) return;
    drop(pos);
    gapAt = gapAt >= 0 && gapAt <= pos ? -1 : gapAt;
    const recStart = pos;
    const offset = rawOffsetOf(recStart);
    const fail = async (error: string, id?: string): Promise<WarcError> => {
      const next = await resync(recStart);
      pos = next < 0 ? dEnd() : next;
      if (next < 0) eof = true;
      return id ? { offset, error, id } : { offset, error };
    };

    await need(recStart + WARC_LINE.length);
    if (!d.subarray(0, WARC_LINE.length).equals(WARC_LINE)) {
      yield await fail('malformed record: expected a "WARC/1.x" version line');
      continue;
    }
    // Headers end at the first blank line (CRLF CRLF, or LF LF in LF-only files).
    let hEnd = -1;
    let bodyStart = -1;
    for (let from = recStart; ; ) {
      const i = d.indexOf(0x0a, from - dBase);
      if (i < 0) {
        if (dEnd() - recStart > MAX_HEADER || !(await pull())) break;
        continue;
      }
      const nl = i + dBase;
      const next = nl + 1;
      if (!(await need(next + 2)) && next >= dEnd()) break;
      const a = d[next - dBase];
      if (a === 0x0a) {
        hEnd = nl;
        bodyStart = next + 1;
        break;
      }
      if (a === 0x0d && d[next + 1 - dBase] === 0x0a) {
        hEnd = nl;
        bodyStart = next + 2;
        break;
      }
      from = next;
    }
    if (hEnd < 0) {
      yield await fail(eof ? 'truncated record: input ends inside the WARC headers' : 'malformed record: no end of WARC headers');
      continue;
    }
    const headers = parseHeaderLines(d.toString('latin1', 0, hEnd - dBase));
    const id = headers.get('warc-record-id');
    const clText = headers.get('content-length');
    const cl = clText !== undefined && /^\d+$/.test(clText) ? Number(clText) : NaN;
    if (!Number.isSafeInteger(cl)) {
      yield await fail(`malformed record: ${clText === undefined ? 'missing' : 'invalid'} Content-Length`, id);
      continue;
    }
    if (cl > maxRecord) {
      const error = `record too large: Content-Length ${cl} is over --max-record-size ${maxRecord} bytes`;
      // A whole member holds the record (and lies about its length): go on at the next member. In a stream,
      // step over the block without keeping it.
      if (gz && !memberAt(recStart)?.streamed) {
        yield await fail(error, id);
        continue;
      }
      pos = await skipTo(recStart, bodyStart + cl);
      yield id ? { offset, error, id } : { offset, error };
      continue;
    }
    const blockEnd = bodyStart + cl;
    const complete = await need(blockEnd);
    // A block may not run past a lost member, nor (gzip) into a member that starts a new record.
    let clippedAt = -1;
    if (gapAt > bodyStart && gapAt < blockEnd) clippedAt = gapAt;
    if (gz && clippedAt < 0) {
      for (const m of members) {
        if (!m.streamed && m.dStart > bodyStart && m.dStart < Math.min(blockEnd, dEnd()) && d.subarray(m.dStart - dBase, m.dStart - dBase + 5).equals(WARC_LINE)) {
          clippedAt = m.dStart;
          break;
        }
      }
    }
    if (clippedAt >= 0) {
      pos = clippedAt;
      yield { offset, error: `clipped record: Content-Length ${cl} but the block ends after ${clippedAt - bodyStart} bytes`, ...(id ? { id } : {}) };
      continue;
    }
    if (!complete) {
      pos = dEnd();
      yield { offset, error: `truncated record: Content-Length ${cl} but the input ends after ${dEnd() - bodyStart} bytes`, ...(id ? { id } : {}) };
      continue;
    }
    // The block must be followed by the next record (or the end): otherwise Content-Length is wrong and the
    // block holds part of a neighbour or misses its own tail.
    let q = blockEnd;
    for (;;) {
      // (Only so far: the block is held meanwhile, and what follows may be a flood of blank lines.)
      if (q >= dEnd() && (q - blockEnd > MAX_HEADER || !(await need(q + 1)))) break;
      if (!isWs(d[q - dBase]!)) break;
      q++;
    }
    // In gzip input the next member is judged on its own: a member that ends right after the block is fine.
    const atMember = gz && (gapAt === q || members.some((m) => m.dStart === q && !m.streamed));
    if (q < dEnd() && !atMember) {
      await need(q + WARC_LINE.length);
      const after = d.subarray(q - dBase, q - dBase + WARC_LINE.length);
      if (!after.equals(WARC_LINE)) {
        yield await fail(`Content-Length ${cl} does not match the record: ${JSON.stringify(after.toString('latin1'))}... follows its block instead of the next record`, id);
        continue;
      }
    }
    const block = d.subarray(bodyStart - dBase, blockEnd - dBase);
    pos = blockEnd;
    const m = memberAt(recStart);
    const length = m && m.member && !m.streamed && m.dStart === recStart ? m.rawLength : q - recStart;
    yield { offset, length, headers, block };
  }
}
