// Split a byte stream into gzip members and inflate each one with the native zlib. Common Crawl writes one
// WARC record per member, so knowing where each member starts gives the record's offset in the compressed
// file (the number the CC index stores). A corrupt member is reported and skipped by scanning for the next
// gzip header, so one bad record does not lose the rest of the file.
import { constants, createGunzip, createInflateRaw, inflateRawSync, crc32 } from 'node:zlib';
import { kMaxLength } from 'node:buffer';
import { Readable } from 'node:stream';

export interface Piece {
  /** Decompressed bytes (for plain input: the raw bytes). */
  data: Buffer;
  /** Offset in the raw input where the member (or plain chunk) starts. */
  rawOffset: number;
  /** Compressed length of the member (plain: chunk length). */
  rawLength: number;
  /** True when `data` is a whole gzip member. */
  member: boolean;
  /** Part of a member too large to inflate at once, streamed instead (records in it share its offset). */
  streamed?: boolean;
}

export interface PieceError {
  error: string;
  rawOffset: number;
}

const FTEXT_HCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
/**
 * A member that has not ended after this many compressed bytes is not one record per member (e.g. a
 * whole file gzipped at once): the rest of the input is then streamed through gunzip instead.
 */
const STREAM_AFTER = 16 << 20;
/** Compressed bytes a streamed member is fed at a time: deflate expands at most ~1032:1, so one step is at most ~16 MB. */
const STEP = 16 << 10;

/** Pull-based buffer over an async byte source, addressed by absolute offsets. */
export class ByteBuffer {
  private buf: Buffer = Buffer.alloc(0);
  /** Absolute offset of buf[0]. */
  base = 0;
  eof = false;
  constructor(
    private readonly it: AsyncIterator<Buffer>,
    start = 0,
  ) {
    this.base = start;
  }

  get end(): number {
    return this.base + this.buf.length;
  }

  /** Make sure bytes up to absolute offset `upTo` are loaded (or EOF). Returns whether they are. */
  async fill(upTo: number): Promise<boolean> {
    if (upTo <= this.end) return true;
    const parts = [this.buf];
    let have = this.end;
    while (have < upTo && !this.eof) {
      const r = await this.it.next();
      if (r.done) this.eof = true;
      else {
        parts.push(r.value);
        have += r.value.length;
      }
    }
    if (parts.length > 1) this.buf = Buffer.concat(parts);
    return upTo <= this.end;
  }

  /** Load one more chunk; false at EOF. */
  async more(): Promise<boolean> {
    const before = this.end;
    await this.fill(before + 1);
    return this.end > before;
  }

  slice(from: number, to = this.end): Buffer {
    return this.buf.subarray(from - this.base, Math.min(to, this.end) - this.base);
  }

  byte(at: number): number {
    return this.buf[at - this.base]!;
  }

  /** Forget everything before absolute offset `at`. */
  drop(at: number): void {
    if (at <= this.base) return;
    const cut = Math.min(at, this.end);
    this.buf = this.buf.subarray(cut - this.base);
    this.base = cut;
  }

  /** Everything from `from` on, as a stream; the buffer is not usable afterwards. */
  async *rest(from: number): AsyncGenerator<Buffer> {
    const first = this.slice(from);
    this.buf = Buffer.alloc(0);
    if (first.length) yield first;
    while (!this.eof) {
      const r = await this.it.next();
      if (r.done) this.eof = true;
      else yield r.value;
    }
  }

  indexOf(needle: Buffer | number, from: number): number {
    const i = this.buf.indexOf(needle, Math.max(0, from - this.base));
    return i < 0 ? -1 : i + this.base;
  }
}

function isMagic(b: ByteBuffer, at: number): boolean {
  return b.byte(at) === 0x1f && b.byte(at + 1) === 0x8b && b.byte(at + 2) === 8;
}

/** Offset of the deflate data after a gzip header at `at`, or -1 when more bytes are needed, or -2 if malformed. */
function headerEnd(b: ByteBuffer, at: number): number {
  if (b.end < at + 10) return -1;
  if (!isMagic(b, at)) return -2;
  const flags = b.byte(at + 3);
  let p = at + 10;
  if (flags & FEXTRA) {
    if (b.end < p + 2) return -1;
    p += 2 + (b.byte(p) | (b.byte(p + 1) << 8));
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (flags & f) {
      const z = b.indexOf(0, p);
      if (z < 0) return -1;
      p = z + 1;
    }
  }
  if (flags & FTEXT_HCRC) p += 2;
  return p <= b.end ? p : -1;
}

/** True when the first bytes of the source are a gzip header. */
export async function sniffGzip(b: ByteBuffer): Promise<boolean> {
  await b.fill(b.base + 3);
  return b.end - b.base >= 3 && isMagic(b, b.base);
}

/** Find the next plausible gzip header at or after `from`; -1 at EOF. */
async function resync(b: ByteBuffer, from: number): Promise<number> {
  let p = from;
  for (;;) {
    const i = b.indexOf(0x1f, p);
    if (i >= 0) {
      await b.fill(i + 3);
      if (b.end < i + 3) return -1;
      if (isMagic(b, i)) return i;
      p = i + 1;
      continue;
    }
    p = b.end;
    b.drop(p);
    if (!(await b.more())) return -1;
  }
}

/**
 * Yield each gzip member's decompressed data, or an error for a member that cannot be inflated
 * (then continue at the next gzip header). A member is inflated whole only up to `maxBytes`: a few KB
 * of gzip can expand to gigabytes.
 */
export async function* gzipMembers(b: ByteBuffer, maxBytes = kMaxLength): AsyncGenerator<Piece | PieceError> {
  const maxOutputLength = Math.min(maxBytes, kMaxLength);
  let at = b.base;
  for (;;) {
    if (!(await b.fill(at + 1))) return;
    let hdr = headerEnd(b, at);
    while (hdr === -1 && !b.eof) {
      await b.more();
      hdr = headerEnd(b, at);
    }
    if (hdr < 0) {
      // Tolerate trailing zero padding, which some writers add.
      const rest = b.slice(at);
      if (b.eof && rest.every((x) => x === 0)) return;
      yield { error: hdr === -1 ? 'truncated gzip header' : 'not a gzip member (bad magic bytes)', rawOffset: at };
      const next = await resync(b, at + 1);
      if (next < 0) return;
      at = next;
      continue;
    }
    // Inflate; if the member is not complete in the buffer, load more and try again.
    let want = Math.max(b.end, hdr + (1 << 16));
    for (;;) {
      await b.fill(want);
      let out: { buffer: Buffer; engine: { bytesWritten: number } } | undefined;
      let err: NodeJS.ErrnoException | undefined;
      try {
        out = inflateRawSync(b.slice(hdr), { info: true, maxOutputLength }) as unknown as typeof out;
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      if (out) {
        const trailer = hdr + out.engine.bytesWritten;
        if (!(await b.fill(trailer + 8))) {
          yield { error: 'truncated gzip member (missing trailer)', rawOffset: at };
          return;
        }
        const t = b.slice(trailer, trailer + 8);
        const crcOk = t.readUInt32LE(0) === crc32(out.buffer) >>> 0;
        const sizeOk = t.readUInt32LE(4) === out.buffer.length % 2 ** 32;
        if (!crcOk || !sizeOk) {
          yield { error: `corrupt gzip member (${crcOk ? 'size' : 'CRC'} mismatch)`, rawOffset: at };
        } else {
          yield { data: out.buffer, rawOffset: at, rawLength: trailer + 8 - at, member: true };
        }
        at = trailer + 8;
        b.drop(at);
        break;
      }
      // Past the cap the member is a whole-file gzip or a bomb: either way it is streamed, and the record
      // layer refuses each record over the cap without holding it.
      if (err?.code === 'ERR_BUFFER_TOO_LARGE') {
        at = yield* streamMember(b, at, hdr);
        if (at < 0) return;
        break;
      }
      if (err?.code === 'Z_BUF_ERROR' && !b.eof && want - at >= STREAM_AFTER) {
        yield* streamRest(b, at);
        return;
      }
      if (err?.code === 'Z_BUF_ERROR' && !b.eof) {
        want = at + Math.max(2 * (b.end - at), 1 << 20);
        continue;
      }
      if (err?.code === 'Z_BUF_ERROR' && b.eof) {
        // The input ends inside this member: hand on what inflates, so the record layer can name the record.
        let partial: Buffer | undefined;
        try {
          partial = inflateRawSync(b.slice(hdr), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength });
        } catch {
          partial = undefined;
        }
        if (partial?.length) {
          yield { data: partial, rawOffset: at, rawLength: b.end - at, member: true };
          return;
        }
      }
      yield {
        error:
          err?.code === 'Z_BUF_ERROR'
            ? 'truncated gzip member (input ends inside it)'
            : `corrupt gzip member (${err?.message ?? 'inflate failed'})`,
        rawOffset: at,
      };
      const next = await resync(b, hdr);
      if (next < 0) return;
      at = next;
      break;
    }
  }
}

/**
 * Inflate one member as a stream, holding little of it: its data comes in pieces that share the
 * member's offset. Returns where the next member starts (-1: none), so the records after it keep theirs.
 */
async function* streamMember(b: ByteBuffer, at: number, hdr: number): AsyncGenerator<Piece | PieceError, number> {
  const inflate = createInflateRaw();
  const out: Buffer[] = [];
  let failed: Error | undefined;
  let wake = () => {};
  inflate.on('data', (c: Buffer) => out.push(c));
  inflate.on('error', (e) => {
    failed = e;
    wake();
  });
  let crc = 0;
  let size = 0;
  let fed = hdr;
  const pieces = function* (): Generator<Piece> {
    for (const data of out) {
      crc = crc32(data, crc);
      size += data.length;
      yield { data, rawOffset: at, rawLength: 0, member: true, streamed: true };
    }
    out.length = 0;
  };
  try {
    // zlib takes every byte it is fed until the deflate data ends; then the trailer follows.
    while (!failed && hdr + inflate.bytesWritten === fed && (await b.fill(fed + 1))) {
      const step = b.slice(fed, fed + STEP);
      fed += step.length;
      await new Promise<void>((res) => {
        wake = res;
        inflate.write(step, () => res());
      });
      yield* pieces();
      b.drop(hdr + inflate.bytesWritten);
    }
    const ended = !failed && hdr + inflate.bytesWritten < fed;
    // The last 'data' events may come after the write that ended the stream.
    if (ended && !inflate.readableEnded) await new Promise<void>((res) => inflate.once('end', res));
    yield* pieces();
    if (!ended) {
      yield { error: failed ? `corrupt gzip member (${failed.message})` : 'truncated gzip member (input ends inside it)', rawOffset: at };
      return failed ? await resync(b, hdr + inflate.bytesWritten) : -1;
    }
  } finally {
    inflate.close();
  }
  const trailer = hdr + inflate.bytesWritten;
  if (!(await b.fill(trailer + 8))) {
    yield { error: 'truncated gzip member (missing trailer)', rawOffset: at };
    return -1;
  }
  const t = b.slice(trailer, trailer + 8);
  const crcOk = t.readUInt32LE(0) === crc >>> 0;
  if (!crcOk || t.readUInt32LE(4) !== size % 2 ** 32) yield { error: `corrupt gzip member (${crcOk ? 'size' : 'CRC'} mismatch)`, rawOffset: at };
  b.drop(trailer + 8);
  return trailer + 8;
}

/** The rest of the input through a streaming gunzip (which also reads any further members). */
async function* streamRest(b: ByteBuffer, at: number): AsyncGenerator<Piece | PieceError> {
  const gunzip = Readable.from(b.rest(at)).pipe(createGunzip());
  try {
    for await (const chunk of gunzip) yield { data: chunk as Buffer, rawOffset: at, rawLength: 0, member: true, streamed: true };
  } catch (e) {
    yield { error: `corrupt or truncated gzip data (${(e as Error).message})`, rawOffset: at };
  }
}

/** Plain (uncompressed) input as pieces. */
export async function* plainPieces(b: ByteBuffer): AsyncGenerator<Piece> {
  for (;;) {
    if (b.end === b.base && !(await b.more())) return;
    const at = b.base;
    const data = b.slice(at);
    b.drop(b.end);
    yield { data, rawOffset: at, rawLength: data.length, member: false };
  }
}
